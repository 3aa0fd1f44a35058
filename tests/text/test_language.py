"""Language detection, and the language answers are written in."""

from assistant.text.language import answer_language, detect_language, question_language


def test_language_detection():
    assert detect_language("Le forze armate occidentali saranno dispiegate in Ucraina") == "it"
    assert detect_language("Western forces will be deployed in Ukraine after a peace deal") == "en"
    assert detect_language("  ...  ") == "und"


def test_answers_are_in_italian_or_english():
    assert answer_language("it") == "it" and answer_language("en") == "en"
    assert answer_language("fr") == answer_language("und") == "en"
    assert question_language("Chi è il segretario generale della NATO?") == "it"
