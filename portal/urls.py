"""The self-service portal (/portal/): home, search, catalog and cart, my tickets, approvals, knowledge base."""

from django.urls import path

from portal import catalog_views, incident_views, kb_views, views

app_name = "portal"

NUMBER = "<str:number>"

urlpatterns = [
    path("portal/", views.home, name="home"),
    path("portal/search/", views.search, name="search"),
    path("portal/report/", kb_views.report, name="report"),
    path("portal/report/suggestions/", kb_views.suggestions, name="suggestions"),
    path("portal/report/solved/", kb_views.solved, name="solved"),
    path("portal/tickets/", views.my_tickets, name="tickets"),
    path(f"portal/tickets/{NUMBER}/rate/", views.rate, name="rate"),
    path(f"portal/tickets/{NUMBER}/attach/", views.attach, name="attach"),
    path(f"portal/incidents/{NUMBER}/", incident_views.incident_detail, name="incident_detail"),
    path(f"portal/incidents/{NUMBER}/comment/", incident_views.incident_comment, name="incident_comment"),
    path(f"portal/incidents/{NUMBER}/accept/", incident_views.incident_accept, name="incident_accept"),
    path(f"portal/incidents/{NUMBER}/reopen/", incident_views.incident_reopen, name="incident_reopen"),
    path(f"portal/requests/{NUMBER}/", catalog_views.request_detail, name="request_detail"),
    path(f"portal/requests/{NUMBER}/comment/", catalog_views.request_comment, name="request_comment"),
    path(f"portal/requests/{NUMBER}/withdraw/", catalog_views.request_withdraw, name="request_withdraw"),
    path(f"portal/requests/{NUMBER}/confirm/", catalog_views.request_confirm, name="request_confirm"),
    path("portal/catalog/", catalog_views.catalog, name="catalog"),
    path("portal/catalog/<slug:slug>/", catalog_views.catalog, name="catalog_category"),
    path("portal/catalog/items/<int:pk>/", catalog_views.item, name="catalog_item"),
    path("portal/cart/", catalog_views.cart, name="cart"),
    path("portal/cart/remove/<int:index>/", catalog_views.cart_remove, name="cart_remove"),
    path("portal/cart/submit/", catalog_views.cart_submit, name="cart_submit"),
    path("portal/approvals/", views.approvals, name="approvals"),
    path("portal/approvals/<int:pk>/", views.approval_detail, name="approval_detail"),
    path("portal/kb/", kb_views.kb_home, name="kb"),
    path("portal/kb/category/<slug:slug>/", kb_views.kb_home, name="kb_category"),
    path("portal/kb/articles/<slug:slug>/", kb_views.article, name="kb_article"),
    path("portal/kb/known-errors/<int:pk>/", kb_views.known_error, name="kb_known_error"),
    path("portal/kb/vote/", kb_views.vote, name="kb_vote"),
]
