"""PII redaction on real identifiers (check digits computed here with python-stdnum), spoken
digits in four languages, the dev-set calls, and a real stereo recording."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from stdnum import ean, iban, luhn
from stdnum.ch import ssn

from qa.model import Segment, Transcript, Word
from qa.redact import find_pii, redact_audio, redact_text, redact_transcript

DEVSET = Path(__file__).parent / "data" / "devset"

# The test's own digit words (not the module's table), to speak identifiers digit by digit.
SPOKEN = {
    "it": "zero uno due tre quattro cinque sei sette otto nove".split(),
    "de": "null eins zwei drei vier fünf sechs sieben acht neun".split(),
    "fr": "zéro un deux trois quatre cinq six sept huit neuf".split(),
    "en": "zero one two three four five six seven eight nine".split(),
}


def speak(digits: str, lang: str) -> str:
    return " ".join(SPOKEN[lang][int(d)] for d in digits)


def make_ahv(rng: random.Random) -> str:
    body = "756" + "".join(rng.choice("0123456789") for _ in range(9))
    number = body + ean.calc_check_digit(body)
    assert ssn.is_valid(number)
    return number


def make_iban(rng: random.Random) -> str:
    bban = "00" + "".join(rng.choice("0123456789") for _ in range(15))  # CH: 5-digit bank + 12 account
    number = "CH" + iban.calc_check_digits("CH00" + bban) + bban
    assert iban.is_valid(number) and len(number) == 21
    return number


def make_card(rng: random.Random) -> str:
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    number = body + luhn.calc_check_digit(body)
    assert luhn.is_valid(number)
    return number


def kinds(text: str, lang: str, context: str = "") -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in find_pii(text, lang, context)]


RNG = random.Random(20261129)
AHV = [make_ahv(RNG) for _ in range(4)]
IBANS = [make_iban(RNG) for _ in range(4)]
CARDS = [make_card(RNG) for _ in range(4)]


# ----------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize("number", AHV)
def test_ahv_written_forms(number):
    dotted = f"{number[:3]}.{number[3:7]}.{number[7:11]}.{number[11:]}"
    for form in (dotted, number, dotted.replace(".", " ")):
        text = f"Il mio numero AVS è {form}, grazie."
        masked, spans = redact_text(text, "it")
        assert [s.kind for s in spans] == ["AHV"], form
        assert spans[0].text == form
        assert masked == "Il mio numero AVS è [AHV], grazie."


@pytest.mark.parametrize("lang,lead", [("it", "allora il numero è"), ("de", "also die Nummer ist"),
                                       ("fr", "alors le numéro c'est"), ("en", "so the number is")])
def test_ahv_spoken_digit_by_digit(lang, lead):
    for number in AHV:
        spoken = speak(number, lang)
        text = f"{lead} {spoken} ok"
        assert kinds(text, lang) == [("AHV", spoken)]
        assert redact_text(text, lang)[0] == f"{lead} [AHV] ok"


def test_ahv_spoken_with_punto_between_groups():
    n = AHV[0]
    spoken = " punto ".join(speak(g, "it") for g in (n[:3], n[3:7], n[7:11], n[11:]))
    assert kinds(f"è il {spoken}", "it") == [("AHV", spoken)]


def test_ahv_with_wrong_check_digit_is_not_masked():
    n = AHV[0]
    wrong = n[:-1] + str((int(n[-1]) + 1) % 10)
    assert not ssn.is_valid(wrong)
    assert find_pii(f"numero {wrong[:3]}.{wrong[3:7]}.{wrong[7:11]}.{wrong[11:]}", "it") == []
    assert find_pii("numero " + speak(wrong, "de"), "de") == []


@pytest.mark.parametrize("number", IBANS)
def test_iban_written(number):
    grouped = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    for form in (grouped, number, grouped.lower()):
        assert kinds(f"Die IBAN lautet {form}.", "de") == [("IBAN", form)], form


@pytest.mark.parametrize("lang", ["it", "de", "fr", "en"])
def test_iban_spoken(lang):
    number = IBANS[1]
    spoken = "ch " + speak(number[2:], lang)
    assert kinds(f"ecco {spoken}", lang) == [("IBAN", spoken)]


def test_iban_with_bad_check_needs_context():
    bban = IBANS[2][4:]
    bad = "CH" + f"{(int(IBANS[2][2:4]) + 1) % 100:02d}" + bban
    assert not iban.is_valid(bad)
    grouped = " ".join(bad[i:i + 4] for i in range(0, len(bad), 4))
    assert find_pii(f"riferimento {grouped}", "it") == []
    # the same shape right after "l'IBAN" is masked (one misheard digit must not leak the account)
    assert kinds(grouped, "it", context="mi può dare l'IBAN per l'addebito?") == [("IBAN", grouped)]


@pytest.mark.parametrize("number", CARDS)
def test_card_written_and_spoken(number):
    spaced = " ".join(number[i:i + 4] for i in range(0, 16, 4))
    dashed = spaced.replace(" ", "-")
    for form in (spaced, dashed, number):
        assert kinds(f"la carta è {form} e scade", "it") == [("CARTA", form)]
    spoken = speak(number, "fr")
    assert kinds(f"ma carte c'est {spoken} voilà", "fr") == [("CARTA", spoken)]


def test_card_failing_luhn_is_not_masked():
    n = CARDS[0]
    wrong = n[:-1] + str((int(n[-1]) + 1) % 10)
    assert not luhn.is_valid(wrong)
    assert find_pii(f"numero ordine {wrong}", "it") == []
    assert find_pii("order number " + speak(wrong, "en"), "en") == []


@pytest.mark.parametrize("text,lang,expected", [
    ("mi può richiamare al 079 123 45 67 grazie", "it", "079 123 45 67"),
    ("Meine Nummer ist +41 44 668 18 00.", "de", "+41 44 668 18 00"),
    ("appelez le 0041 21 345 67 89 s'il vous plaît", "fr", "0041 21 345 67 89"),
    ("call me on +41 (0)79 123 45 67 please", "en", "+41 (0)79 123 45 67"),
    ("il numero è zero sette nove uno due tre quattro cinque sei sette", "it",
     "zero sette nove uno due tre quattro cinque sei sette"),
    ("meine Nummer ist null sieben acht, sechs eins zwei, vier null, vier null", "de",
     "null sieben acht, sechs eins zwei, vier null, vier null"),
    ("c'est le zéro vingt-et-un trois cent quarante-cinq soixante-sept quatre-vingt-neuf", "fr",
     "zéro vingt-et-un trois cent quarante-cinq soixante-sept quatre-vingt-neuf"),
    ("my number is plus four one seven nine one two three four five six seven", "en",
     "plus four one seven nine one two three four five six seven"),
    ("chiamo dal zero settantanove centoventitré quarantacinque sessantasette", "it",
     "zero settantanove centoventitré quarantacinque sessantasette"),
])
def test_phone_numbers(text, lang, expected):
    assert kinds(text, lang) == [("TELEFONO", expected)]


@pytest.mark.parametrize("text,lang,expected", [
    ("scriva pure a mario.rossi@bluewin.ch grazie", "it", "mario.rossi@bluewin.ch"),
    ("mario punto rossi chiocciola gmail punto com", "it", "mario punto rossi chiocciola gmail punto com"),
    ("k punkt brunner at bluemail punkt ch", "de", "k punkt brunner at bluemail punkt ch"),
    ("c'est jean point dupont arobase orange point fr", "fr", "jean point dupont arobase orange point fr"),
    ("it's anna dot smith at example dot co dot uk", "en", "anna dot smith at example dot co dot uk"),
])
def test_email(text, lang, expected):
    assert kinds(text, lang) == [("EMAIL", expected)]


@pytest.mark.parametrize("text,lang,expected", [
    ("sono nato il 12 marzo 1985 a Lugano", "it", "12 marzo 1985"),
    ("data di nascita 03.07.1979", "it", "03.07.1979"),
    ("sono nata il tre maggio millenovecentonovanta", "it", "tre maggio millenovecentonovanta"),
    ("geboren am 12.03.1985", "de", "12.03.1985"),
    ("ich bin am vierten Juli neunzehnhundertfünfundsiebzig geboren", "de",
     "vierten Juli neunzehnhundertfünfundsiebzig"),
    ("je suis née le 5 avril 1981", "fr", "5 avril 1981"),
    ("né le premier mars mille neuf cent soixante", "fr", "premier mars mille neuf cent soixante"),
    ("date of birth: March 12, 1985", "en", "March 12, 1985"),
    ("I was born on the second of February nineteen eighty-two", "en", "second of February nineteen eighty-two"),
    ("birthday 1985-03-12", "en", "1985-03-12"),
])
def test_date_of_birth(text, lang, expected):
    assert kinds(text, lang) == [("DATA_NASCITA", expected)]


def test_date_of_birth_from_previous_turn():
    assert kinds("Siebter Mai 1981, Seestrasse 40.", "de", context="Ich brauche noch Ihr Geburtsdatum.") == [
        ("DATA_NASCITA", "Siebter Mai 1981")]
    # a date without any birth context is not personal data
    assert find_pii("Siebter Mai 1981, Seestrasse 40.", "de") == []


@pytest.mark.parametrize("text,lang", [
    ("costa 29.90 franchi al mese", "it"),
    ("il pacchetto costa CHF 1'250.50 e ne prendo 3", "it"),
    ("ci vediamo alle 10 oppure alle 14.30", "it"),
    ("Fibra 500 a quarantanove franchi, nel 2019 era di più", "it"),
    ("Via Cantonale 12, 6900 Lugano", "it"),
    ("il numero cliente è 4471203", "it"),
    ("Kundennummer 80 33 917, Termin am 12.03.2025", "de"),
    ("die Rechnung vom 12. März 2024 über 129.00 Franken", "de"),
    ("la facture du 3 mars 2024, rendez-vous à 14 h 30", "fr"),
    ("le code postal c'est 1950 et j'ai 2 enfants", "fr"),
    ("three months at four ninety-nine, then nine ninety-nine", "en"),
    ("the card ends 4 4 1 7 and the postcode is CF10 3AT", "en"),
    ("order 123456 shipped on 2024-05-01, 12 items", "en"),
    ("sono le dieci e trenta, ho due figli e tre gatti", "it"),
    ("un problema con la fattura di ottobre", "it"),
    ("I looked at amazon dot com for a new phone", "en"),
    ("più o meno tre volte, plus de deux fois", "it"),
    ("der Vertrag läuft bis 31.12.2026, geboren ist das Angebot im Mai", "de"),
])
def test_ordinary_numbers_are_not_masked(text, lang):
    assert find_pii(text, lang) == []


def test_several_findings_in_one_text():
    n_ahv, n_iban = AHV[2], IBANS[3]
    text = (f"AVS {n_ahv}, IBAN {n_iban}, telefono 079 555 12 34, mail a.b@c.ch, "
            "nato il 1.2.1960, costo 49.90")
    masked, spans = redact_text(text, "it")
    assert [s.kind for s in spans] == ["AHV", "IBAN", "TELEFONO", "EMAIL", "DATA_NASCITA"]
    assert masked == ("AVS [AHV], IBAN [IBAN], telefono [TELEFONO], mail [EMAIL], "
                      "nato il [DATA_NASCITA], costo 49.90")
    for s in spans:
        assert text[s.start_char:s.end_char] == s.text


# ----------------------------------------------------------------------------- transcripts


def test_redact_transcript_with_words_keeps_timestamps():
    words = [Word(" Il", 10.0, 10.2), Word(" mio", 10.2, 10.4), Word(" numero", 10.4, 10.8), Word(" è", 10.8, 10.9),
             Word(" zero", 11.0, 11.3), Word(" sette", 11.3, 11.6), Word(" nove", 11.6, 11.9), Word(" uno", 12.0, 12.2),
             Word(" due", 12.2, 12.4), Word(" tre", 12.4, 12.6), Word(" quattro", 12.7, 13.0),
             Word(" cinque", 13.0, 13.3), Word(" sei", 13.3, 13.5), Word(" sette.", 13.5, 13.9),
             Word(" Grazie.", 14.2, 14.6)]
    text = "Il mio numero è zero sette nove uno due tre quattro cinque sei sette. Grazie."
    t = Transcript("c1", [Segment("agent", 0.0, 9.5, "Buongiorno, come posso aiutarla?"),
                          Segment("customer", 10.0, 14.6, text, words=words)], language="it")
    red, recs = redact_transcript(t)
    assert red.segments[1].text == "Il mio numero è [TELEFONO]. Grazie."
    assert red.segments[0].text == t.segments[0].text
    got = [(w.word, w.start, w.end) for w in red.segments[1].words]
    assert got == [(" Il", 10.0, 10.2), (" mio", 10.2, 10.4), (" numero", 10.4, 10.8), (" è", 10.8, 10.9),
                   (" [TELEFONO]", 11.0, 13.9), (" Grazie.", 14.2, 14.6)]
    assert recs == [{"segment": 1, "speaker": "customer", "kind": "TELEFONO", "start": 11.0, "end": 13.9,
                     "start_char": 16, "end_char": 68, "timing": "words"}]
    # the input is left as it was
    assert t.segments[1].text == text and t.segments[1].words[4].word == " zero"


def test_redact_transcript_without_words_estimates_times():
    text = "Sono nato il 12 marzo 1985."  # 27 characters; the date is characters 13..26
    t = Transcript("c2", [Segment("customer", 20.0, 22.7, text)], language="it")
    red, recs = redact_transcript(t)
    assert red.segments[0].text == "Sono nato il [DATA_NASCITA]."
    assert recs[0]["kind"] == "DATA_NASCITA" and recs[0]["timing"] == "estimated"
    assert recs[0]["start"] == pytest.approx(20.0 + 2.7 * 13 / 27, abs=1e-3)
    assert recs[0]["end"] == pytest.approx(20.0 + 2.7 * 26 / 27, abs=1e-3)
    assert red.to_dict()["segments"][0]["text"] == "Sono nato il [DATA_NASCITA]."


# What a person reading the dev-set calls finds (identifiers as written in the files).
DEVSET_PII = {
    "dev-de-001": [(11, "DATA_NASCITA", "Siebter Mai 1981"), (13, "TELEFONO", "079 555 12 34")],
    "dev-de-004": [(12, "EMAIL", "k punkt brunner at bluemail punkt ch")],
    "dev-de-005": [(3, "DATA_NASCITA", "zweiten Februar 1972")],
    "dev-de-006": [(3, "IBAN", None), (5, "IBAN", None)],
    "dev-de-008": [(3, "TELEFONO", "078 612 40 40"), (3, "DATA_NASCITA", "zehnte Juni 1988")],
    "dev-en-004": [(7, "DATA_NASCITA", "twelfth of May, 1984")],
    "dev-en-007": [(3, "EMAIL", "anita.patel@example.com"), (3, "DATA_NASCITA", "second of March, 1970")],
    "dev-fr-005": [(3, "DATA_NASCITA", "5 avril 1981")],
    "dev-fr-007": [(1, "TELEFONO", "zéro deux un six sept trois quarante-cinq vingt")],
    "dev-it-001": [(11, "DATA_NASCITA", "4 marzo 1984")],
    "dev-it-012": [(3, "DATA_NASCITA", "Ventisei giugno 1966")],
    "dev-it-015": [(11, "IBAN", None)],
    "dev-it-007": [(5, "DATA_NASCITA", "ventidue aprile sessantotto")],
    "dev-it-003": [(9, "DATA_NASCITA", "dodici luglio ottantanove")],
    "dev-fr-002": [(11, "DATA_NASCITA", "douze mars septante-huit"), (11, "DATA_NASCITA", "trois juin huitante")],
    "dev-fr-010": [(3, "DATA_NASCITA", "dix-sept juillet soixante-deux")],
}


@pytest.mark.parametrize("call_id", sorted(DEVSET_PII))
def test_devset_calls(call_id):
    t = Transcript.load(DEVSET / f"{call_id}.json")
    red, recs = redact_transcript(t)
    found = {(r["segment"], r["kind"]) for r in recs}
    for seg, kind, literal in DEVSET_PII[call_id]:
        assert (seg, kind) in found, (seg, kind)
        if literal:
            assert literal in t.segments[seg].text
            assert literal not in red.segments[seg].text
            assert f"[{kind}]" in red.segments[seg].text
    # the customer numbers, postcodes and prices in these calls stay
    assert len(red.segments) == len(t.segments)


def test_devset_ordinary_numbers_survive():
    t = Transcript.load(DEVSET / "dev-it-005.json")
    red, _ = redact_transcript(t)
    assert "4471203" in red.segments[3].text  # customer number, not personal data we mask
    t = Transcript.load(DEVSET / "dev-de-001.json")
    red, _ = redact_transcript(t)
    assert "Seestrasse 40, 8002 Zürich" in red.segments[11].text


# ----------------------------------------------------------------------------- audio


def _read(path):
    import av

    with av.open(str(path)) as c:
        st = c.streams.audio[0]
        rate, ch = st.codec_context.sample_rate, st.codec_context.channels
        assert st.codec_context.format.name == "s16"
        frames = [f.to_ndarray() for f in c.decode(st)]
    data = np.concatenate(frames, axis=1)  # packed s16: (1, samples * channels)
    return data.reshape(-1, ch).T.astype(np.float64) / 32768.0, rate, ch


def test_redact_audio_silences_span_and_keeps_the_rest(eval_audio_dir, tmp_path):
    src = eval_audio_dir / "stereo_diarization.wav"
    dst = tmp_path / "redacted.wav"
    redact_audio(src, dst, [{"start": 1.0, "end": 2.0, "kind": "TELEFONO"}])
    orig, rate, channels = _read(src)
    out, rate2, channels2 = _read(dst)
    assert (rate2, channels2) == (rate, channels) == (16000, 2)
    assert out.shape == orig.shape
    a, b = 16000, 32000
    assert np.sqrt(np.mean(orig[:, a:b] ** 2)) > 0.005  # there was speech to hide
    assert np.sqrt(np.mean(out[:, a:b] ** 2)) < 1e-6
    np.testing.assert_array_equal(out[:, :a], orig[:, :a])
    np.testing.assert_array_equal(out[:, b:], orig[:, b:])


def test_redact_audio_tone(eval_audio_dir, tmp_path):
    src = eval_audio_dir / "stereo_diarization.wav"
    dst = tmp_path / "tone.wav"
    redact_audio(src, dst, [(0.5, 1.5)], mode="tone")
    orig, _, _ = _read(src)
    out, _, _ = _read(dst)
    seg = out[:, 8000:24000]
    assert np.sqrt(np.mean(seg ** 2)) == pytest.approx(0.2 / np.sqrt(2), rel=0.02)
    assert not np.allclose(seg, orig[:, 8000:24000])
    np.testing.assert_array_equal(out[:, 24000:], orig[:, 24000:])


def test_redact_audio_from_compressed_call_keeps_format(tmp_path):
    """sample_rate=None: the source's rate and channels are kept (the default writes 16 kHz)."""
    import av

    src = Path(__file__).resolve().parents[1] / "samples" / "call_it_01.m4a"
    dst = redact_audio(src, tmp_path / "call.flac", [{"start": 2.0, "end": 3.5}], sample_rate=None)

    def decode(path):
        with av.open(str(path)) as c:
            st = c.streams.audio[0]
            info = (st.codec_context.sample_rate, st.codec_context.channels)
            frames = []
            for f in c.decode(st):
                a = f.to_ndarray()
                if not f.format.is_planar:
                    a = a.reshape(-1, info[1]).T
                if a.dtype.kind in "iu":
                    a = a.astype(np.float64) / 32768.0
                frames.append(a.astype(np.float64))
        return np.concatenate(frames, axis=1), info

    orig, info = decode(src)
    out, info2 = decode(dst)
    assert info2 == info
    rate = info[0]
    assert out.shape == orig.shape
    a, b = int(2.0 * rate), int(3.5 * rate)
    assert np.sqrt(np.mean(orig[:, a:b] ** 2)) > 0.001
    assert np.abs(out[:, a:b]).max() == 0.0
    # the rest is the original to 16-bit precision
    assert np.abs(out[:, :a] - np.clip(orig[:, :a], -1, 32767 / 32768)).max() <= 1 / 32768 + 1e-9
    assert np.abs(out[:, b:] - np.clip(orig[:, b:], -1, 32767 / 32768)).max() <= 1 / 32768 + 1e-9


def test_redact_audio_rejects_unknown_format(eval_audio_dir, tmp_path):
    from qa.errors import AudioError

    with pytest.raises(AudioError):
        redact_audio(eval_audio_dir / "stereo_diarization.wav", tmp_path / "out.xyz", [(0, 1)])
    with pytest.raises(AudioError):
        redact_audio(tmp_path / "missing.wav", tmp_path / "out.wav", [(0, 1)])


def test_words_that_do_not_follow_the_text():
    # the engine's words spell the number out while the segment text has digits
    words = [Word(" chiamate", 1.0, 1.4), Word(" lo", 1.4, 1.5), Word(" zero", 1.6, 1.9), Word(" sette", 1.9, 2.2),
             Word(" otto", 2.2, 2.5), Word(" sei", 2.5, 2.7), Word(" uno", 2.7, 2.9), Word(" due", 2.9, 3.1),
             Word(" quattro", 3.1, 3.4), Word(" zero", 3.4, 3.7), Word(" quattro", 3.7, 4.0), Word(" zero", 4.0, 4.3)]
    t = Transcript("c3", [Segment("customer", 1.0, 4.3, "chiamate lo 078 612 40 40", words=words)], language="it")
    red, recs = redact_transcript(t)
    assert red.segments[0].text == "chiamate lo [TELEFONO]"
    assert [w.word for w in red.segments[0].words] == [" chiamate", " lo", " [TELEFONO]"]
    assert (red.segments[0].words[2].start, red.segments[0].words[2].end) == (1.6, 4.3)
    assert recs[0]["kind"] == "TELEFONO" and (recs[0]["start"], recs[0]["end"]) == (1.6, 4.3)


def test_redact_audio_default_is_16khz_and_streams_from_other_rates(tmp_path):
    """The stored copy is 16 kHz (what the transcript was made from) whatever the source's rate; the
    span is silent at the right place and the rest is the resampled original."""
    import av

    from qa.audio import load_audio

    src = Path(__file__).resolve().parents[1] / "samples" / "call_it_01.m4a"  # 8 kHz stereo AAC
    with av.open(str(src)) as c:
        assert c.streams.audio[0].codec_context.sample_rate == 8000
    dst = redact_audio(src, tmp_path / "call.wav", [{"start": 2.0, "end": 3.5}])
    out, rate, ch = _read(dst)
    assert (rate, ch) == (16000, 2)
    ref = np.stack(load_audio(src).channels).astype(np.float64)  # the same decoder and resampler, 16 kHz
    assert out.shape == ref.shape
    a, b = 32000, 56000
    assert np.sqrt(np.mean(ref[:, a:b] ** 2)) > 0.001 and np.abs(out[:, a:b]).max() == 0.0
    assert np.abs(out[:, :a] - np.clip(ref[:, :a], -1, 32767 / 32768)).max() <= 1 / 32768 + 1e-9
    assert np.abs(out[:, b:] - np.clip(ref[:, b:], -1, 32767 / 32768)).max() <= 1 / 32768 + 1e-9


def test_redact_audio_of_a_truncated_file_leaves_nothing(eval_audio_dir, tmp_path):
    from qa.errors import AudioError

    src = eval_audio_dir / "stereo_diarization.wav"
    cut = tmp_path / "cut.wav"
    data = src.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the header still declares the whole length
    dst = tmp_path / "out" / "cut.redacted.wav"
    with pytest.raises(AudioError, match="truncated"):
        redact_audio(cut, dst, [(0.5, 1.0)])
    assert not dst.exists()


def test_redact_audio_memory_stays_bounded_on_a_long_recording(eval_audio_dir, tmp_path):
    """Twenty minutes of real speech at 48 kHz stereo (the evaluation call looped by ffmpeg: 230 MB of
    WAV) are redacted with a peak memory growth far below the size of the recording: the copy is
    streamed block by block. (Decoding it whole, as before, grew the process by 1.7 GB.)"""
    import json
    import shutil
    import subprocess
    import sys

    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is needed to make the long recording")
    src = tmp_path / "long48k.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-stream_loop", "-1", "-i", str(eval_audio_dir / "stereo_diarization.wav"),
                    "-t", "1200", "-ar", "48000", "-ac", "2", "-c:a", "pcm_s16le", str(src)], check=True)
    assert src.stat().st_size > 200e6
    dst = tmp_path / "long.redacted.wav"
    code = (
        "import json, resource, sys\n"
        "import av, numpy\n"
        "from qa.redact import redact_audio\n"
        "import qa.audio\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "redact_audio(sys.argv[1], sys.argv[2], [(60.0, 75.5), (400.0, 401.0)])\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'before_kb': before, 'after_kb': after}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(src), str(dst)], check=True, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    rss = json.loads(out.stdout.strip().splitlines()[-1])
    growth_mb = (rss["after_kb"] - rss["before_kb"]) / 1024
    assert growth_mb < 100, f"redacting grew the process by {growth_mb:.0f} MB"
    written, rate, ch = _read(dst)
    assert (rate, ch) == (16000, 2) and written.shape[1] == 1200 * 16000
    assert np.abs(written[:, 60 * 16000:75 * 16000]).max() == 0.0
    assert np.sqrt(np.mean(written[:, 100 * 16000:110 * 16000] ** 2)) > 0.005


def test_evidence_quotes_are_masked_with_the_transcript_context():
    """A date of birth given in answer to the previous turn: the transcript pass masks it thanks to
    the context, and the evidence quote of the same segment is masked the same way (masking the
    quote alone, as the pipeline did, missed it)."""
    from qa.model import CriterionResult, Evaluation, Evidence
    from qa.pipeline import redact
    from qa.redact import redact_evidence, redact_quote

    t = Transcript("dob", [
        Segment("agent", 0.0, 2.0, "Buongiorno, per verificare mi dice la sua data di nascita?"),
        Segment("customer", 2.0, 4.0, "Sì, sette maggio 1981, e abito a Lugano."),
        Segment("agent", 4.0, 6.0, "Grazie, la richiamo allo 079 123 45 67 domani."),
    ], language="it")
    red, _ = redact_transcript(t)
    assert red.segments[1].text == "Sì, [DATA_NASCITA], e abito a Lugano."
    quote = "Sì, sette maggio 1981, e abito a Lugano."
    assert redact_text(quote, "it")[0] == quote  # without the context the date is not a birth date
    assert redact_quote(quote, t, "customer", 2.0, 4.0) == red.segments[1].text
    assert redact_quote("sette maggio 1981", t, "customer", 2.0, 4.0) == "[DATA_NASCITA]"
    ev = Evaluation(call_id="dob", rubric="assistenza", rubric_version="1", score=50.0, criteria=[
        CriterionResult("identificazione", "1.1", "pass", 1.0,
                        [Evidence("customer", 2.0, 4.0, quote), Evidence("agent", 4.0, 6.0, t.segments[2].text)])])
    masked = redact_evidence(ev, t)
    assert [e.text for e in masked.criteria[0].evidence] == [red.segments[1].text, red.segments[2].text]
    assert ev.criteria[0].evidence[0].text == quote  # the input is not changed
    # the pipeline's redaction stage (an evaluation made before redaction) uses it
    r = redact(t, ev)
    assert [e.text for e in r.evaluation.criteria[0].evidence] == [red.segments[1].text, red.segments[2].text]


@pytest.mark.parametrize("lang", ["it", "de", "fr", "en"])
def test_commas_around_spoken_separators_and_between_groups(lang):
    """ASR writes pauses as commas: "sette cinque sei, punto, uno due ..." and "CH93, 0076, ..."."""
    rng = random.Random(f"commas-{lang}")
    dot = {"it": "punto", "de": "Punkt", "fr": "point", "en": "dot"}[lang]
    for _ in range(5):
        ahv = make_ahv(rng)
        groups = [ahv[:3], ahv[3:7], ahv[7:11], ahv[11:]]
        spoken = f", {dot}, ".join(speak(g, lang) for g in groups)
        assert kinds(f"ok {spoken}. grazie", lang) == [("AHV", spoken)]
        number = make_iban(rng)
        written = ", ".join(number[k:k + 4] for k in range(0, len(number), 4))
        assert kinds(f"IBAN {written}.", lang) == [("IBAN", written)]
    # an ordinary amount with a spoken comma stays
    assert kinds("fanno 12, punto, 50 franchi", "it") == []


def test_birth_question_a_few_long_turns_back_and_the_year_said_again():
    long_turn = ("Das ist nur eine Kontrolle, damit ich sicher bin, dass ich mit der richtigen Person spreche. "
                 "Die Daten bleiben bei uns und werden für nichts anderes verwendet, das verspreche ich Ihnen.")
    t = Transcript("dob2", [
        Segment("agent", 0.0, 2.0, "Zuerst zur Kontrolle: Können Sie mir Ihr Geburtsdatum sagen?"),
        Segment("customer", 2.0, 4.0, "Wieso brauchen Sie das? Ich bin ja gar nicht mehr Kundin bei Ihnen, wissen Sie."),
        Segment("agent", 4.0, 8.0, long_turn),
        Segment("customer", 8.0, 9.0, "Hm. Also gut, 11. April 1971."),
    ], language="de")
    red, _ = redact_transcript(t)
    assert red.segments[3].text == "Hm. Also gut, [DATA_NASCITA]."
    assert kinds("Euh oui, le douze avril cinquante-huit. Mille neuf cent cinquante-huit.", "fr",
               "votre date de naissance") == [("DATA_NASCITA", "douze avril cinquante-huit. Mille neuf cent cinquante-huit")]
    # another year after a birth date is not taken with it
    assert kinds("nato il 3 maggio 1981. Il 1999 è l'anno del contratto", "it") == [("DATA_NASCITA", "3 maggio 1981")]
