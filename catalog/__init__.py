"""The shared service catalog and CMDB."""
