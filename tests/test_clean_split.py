from pathlib import Path

from rag.clean import clean_text
from rag.load import load_paths
from rag.split import split_article, split_sentences
from rag.types import Article

from conftest import SAMPLE_ARTICLES


def sample_article() -> Article:
    from rag.clean import clean_article

    (article,) = list(load_paths([SAMPLE_ARTICLES]))
    return clean_article(article)


def test_related_links_list_is_removed_and_body_kept():
    article = sample_article()
    assert "Lesen Sie auch" not in article.text
    assert "Grenzschutzbeamte" not in article.text  # a headline from the link list
    assert "Bloomberg" not in article.text
    assert article.text.rstrip().endswith("durch Kiew.")
    assert "Alexander Matsegora" in article.text


def test_noise_lines_removed_but_prose_kept():
    text = "Titel\n\nFoto: dpa\nDer Minister sprach lange.\nDiesen Artikel teilen\nRead more:\n- Other story\n- Another"
    cleaned = clean_text(text)
    assert cleaned == "Titel\n\nDer Minister sprach lange."


def test_passages_point_at_exact_offsets_and_respect_paragraphs():
    article = sample_article()
    passages = split_article(article, max_chars=300)
    assert len(passages) >= 4
    paragraphs = [p for p in article.text.split("\n") if p.strip()]
    for p in passages:
        assert article.text[p.start:p.end] == p.text
        assert "\n" not in p.text.strip() or len(p.sentences) > 1  # a short headline may join the lead
        for s in p.sentences:
            assert p.start <= s.start < s.end <= p.end
            assert article.text[s.end - 1] in ".!?\"'”»" or s.end == p.end
    assert any("Matsegora" in p.text for p in passages)
    assert len(paragraphs) >= 5


def test_sentence_splitter_keeps_abbreviations_and_ordinals():
    text = "Kaiser Heinrich III. adelte 1047 den Anführer. Am 20. Mai kam er an. Dr. Vogt sprach z. B. über Geld."
    sentences = [text[s.start:s.end] for s in split_sentences(text)]
    assert sentences == [
        "Kaiser Heinrich III. adelte 1047 den Anführer.",
        "Am 20. Mai kam er an.",
        "Dr. Vogt sprach z. B. über Geld.",
    ]
    # an ordinal after an article or "zum" is not a sentence end; a year at the end of a sentence is
    text = "Die Schule reicht bis zum 12. Schuljahr. Sie feierte ihren 80. Geburtstag. Er kam im Jahr 1990. Danach nicht."
    assert [text[s.start:s.end] for s in split_sentences(text)] == [
        "Die Schule reicht bis zum 12. Schuljahr.", "Sie feierte ihren 80. Geburtstag.", "Er kam im Jahr 1990.",
        "Danach nicht.",
    ]


def test_long_paragraph_is_split_at_sentence_boundaries(tmp_path: Path):
    body = " ".join(f"Satz Nummer {i} erzählt etwas über die Lage in der Stadt." for i in range(40))
    article = Article(id="a", title="T", text=f"T\n\n{body}")
    passages = split_article(article, max_chars=300)
    assert len(passages) > 5
    for p in passages:
        assert len(p.text) <= 300 + 200  # a merged short headline may add to the first one
        assert p.text.endswith(".")
