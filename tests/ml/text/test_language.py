from __future__ import annotations

import pytest

from ml.text.clean import lyrics_clean
from ml.text.language import INSTRUMENTAL, UNDETERMINED, language_detect, language_label
from tests.ml.text.parallel_texts import EN, FR, RU

DE = "Ich bin durch die Straßen gelaufen\nund habe die ganze Nacht an dich gedacht\nder Regen fällt auf unser altes Haus"
ES = "Caminé por las calles toda la noche\npensando en ti, mi amor perdido\nla lluvia cae sobre nuestra casa vieja"


@pytest.mark.parametrize("text, code", [(EN[1], "en"), (RU[0], "ru"), (FR[3], "fr"), (DE, "de"), (ES, "es")])
def test_the_catalogue_languages_are_recognised(text, code):
    assert language_detect(text) == code


def test_detection_is_deterministic():
    borderline = "Rock and roll, baby, c'est la vie, amigo, ja ja, oh la la, vamos, allez, come on"
    assert len({language_detect(borderline) for _ in range(5)}) == 1


@pytest.mark.parametrize("text", ["", "Oh yeah", "[Instrumental]", lyrics_clean("[00:01.00]Hey!\n[00:03.00]Hey!\n(x4)")])
def test_too_little_text_is_instrumental(text):
    assert language_detect(text) == INSTRUMENTAL


def test_vocalise_and_an_unsure_detector_give_unknown():
    assert language_detect("la la la la la la\nna na na na na na\nla la la la") == UNDETERMINED
    # Demanding certainty the detector cannot have turns any answer into "unknown".
    assert language_detect(EN[0], min_probability=1.01) == UNDETERMINED


def test_the_threshold_follows_min_words():
    assert language_detect("the sea will take us away", min_words=8) == INSTRUMENTAL
    assert language_detect("Мы уходим на рассвете в серое холодное море", min_words=5) == "ru"


def test_labels_for_display():
    assert (language_label("ru"), language_label(INSTRUMENTAL), language_label(UNDETERMINED), language_label("")) == ("ru", "instrumental", "unknown", "–")
