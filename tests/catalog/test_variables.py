"""The one validation of catalog forms: every type, required flags, show-when rules, and errors keyed by name."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import CatalogVariable
from catalog.selectors import catalog_item_current_version
from catalog.services import catalog_item_publish
from catalog.variables import variables_validate
from tests.factories import ConfigurationItemFactory, UserFactory
from tests.factories.requests import laptop_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def definition():
    return catalog_item_current_version(item=laptop_item()).definition


def errors_of(definition, values, files=None) -> dict:
    with pytest.raises(ValidationError) as caught:
        variables_validate(definition=definition, values=values, files=files)
    return caught.value.message_dict


def test_variables_validate_every_type_accepts_good_answers(definition):
    person = UserFactory(username="pat", first_name="Pat", last_name="Lee")
    ci = ConfigurationItemFactory(name="LT-0042")
    stored, display = variables_validate(
        definition=definition,
        values={
            "model": "Developer",
            "ram": "32 GB",
            "needed_by": "2026-12-24",
            "monitors": "2",
            "accessories": ["Dock", "Mouse"],
            "keep_old": "no",
            "cost_centre": "CC-1234",
            "notes": "  Thanks  ",
            "deliver_to": "pat",
            "old_device": ci.pk,
        },
    )
    assert stored == {
        "model": "Developer",
        "ram": "32 GB",
        "needed_by": "2026-12-24",
        "monitors": 2,
        "accessories": ["Mouse", "Dock"],
        "keep_old": False,
        "cost_centre": "CC-1234",
        "notes": "Thanks",
        "deliver_to": person.pk,
        "old_device": ci.pk,
    }
    assert display["deliver_to"] == "Pat Lee"
    assert display["old_device"] == "LT-0042"
    assert display["keep_old"] == "No"
    assert display["needed_by"] == "24 Dec 2026"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("model", "Gaming"),
        ("needed_by", "24/12/2026"),
        ("monitors", "3"),
        ("monitors", "many"),
        ("monitors", True),
        ("accessories", ["Mouse", "Printer"]),
        ("keep_old", "maybe"),
        ("cost_centre", "1234"),
        ("notes", "x" * 501),
        ("deliver_to", "nobody-here"),
        ("old_device", 999999),
    ],
)
def test_variables_validate_bad_answer_names_the_variable(definition, name, value):
    values = {"model": "Standard", name: value}
    errors = errors_of(definition, values)
    assert list(errors) == [name]


def test_variables_validate_required_and_unknown_questions(definition):
    errors = errors_of(definition, {"colour": "red"})
    assert errors["model"] == ["This question is required."]
    assert errors["colour"] == ["This item has no such question."]


def test_variables_validate_show_when_rule_hides_and_drops(definition):
    # RAM shows only for the developer model: required then, ignored (and dropped) otherwise.
    assert errors_of(definition, {"model": "Developer"}) == {"ram": ["This question is required."]}
    stored, _ = variables_validate(definition=definition, values={"model": "Standard", "ram": "banana"})
    assert stored == {"model": "Standard"}


def test_variables_validate_attachment_checks_the_file(db):
    item = laptop_item(name="Software licence", approval=False)
    CatalogVariable.objects.create(item=item, name="quote", label="Quote", type="attachment", required=True)
    definition = catalog_item_publish(item=item).definition
    assert errors_of(definition, {"model": "Standard"}) == {"quote": ["Attach the file."]}
    bad = SimpleUploadedFile("quote.pdf", b"not a pdf")
    assert "quote" in errors_of(definition, {"model": "Standard"}, files={"quote": bad})
    good = SimpleUploadedFile("quote.pdf", b"%PDF-1.4 ...")
    stored, _ = variables_validate(definition=definition, values={"model": "Standard"}, files={"quote": good})
    assert stored["quote"] == "quote.pdf"
    assert "quote" in errors_of(definition, {"model": "Standard", "quote": "quote.pdf"})


def test_catalog_item_publish_versions_only_on_change(db):
    item = laptop_item()
    first = catalog_item_current_version(item=item)
    assert catalog_item_publish(item=item) == first
    item.short_description = "A faster laptop"
    item.save()
    second = catalog_item_publish(item=item)
    assert second.number == first.number + 1
    assert second.definition["short_description"] == "A faster laptop"
    assert first.definition["short_description"] == "A new laptop for work"
