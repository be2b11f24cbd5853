"""What stations send, as staff read it: a label in their language, the raw value kept."""

from django.utils import translation

from supervision.ocpp_labels import LABELS, ocpp_label, ocpp_label_html


def test_every_value_has_a_french_label_of_its_own():
    with translation.override("en"):
        english = {value: ocpp_label(value) for value in LABELS}
    with translation.override("fr"):
        french = {value: ocpp_label(value) for value in LABELS}

    assert [value for value in LABELS if french[value] == english[value]] == []


def test_the_label_shows_with_the_raw_value_in_its_tooltip():
    with translation.override("fr"):
        assert ocpp_label_html("SuspendedEV") == (
            '<span title="SuspendedEV">Suspendu par le véhicule</span>'
        )
    with translation.override("en"):
        assert ocpp_label_html("EVDisconnected") == (
            '<span title="EVDisconnected">Vehicle unplugged</span>'
        )


def test_a_value_no_label_knows_is_shown_as_sent_and_escaped():
    assert ocpp_label("VendorSpecific") == "VendorSpecific"
    assert ocpp_label_html("<b>Vendor</b>") == "&lt;b&gt;Vendor&lt;/b&gt;"
    assert ocpp_label_html("") == ocpp_label("") == ""
