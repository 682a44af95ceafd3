"""Synthetic long-range tasks mixed into the default model's pretraining, so that retrieval heads form.

Each synthetic training sequence is filler (a window of the real corpus, or the passkey benchmark's
repeated sentences, in order or shuffled) with facts planted early and asked about late: pass keys,
named codes, key-value records and people with a city and a job, in several wordings each. Every
question is followed by its answer, so the plain language-model loss teaches the model to look
back across the whole sequence; the answer's tokens are marked so that the loss can weight them.

Works on token ids with numpy only (the tokenizer is passed in as `encode`), so it is tested here
without torch: `python3 -m unittest tools/train-default-model/test_synthetic.py`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

# The passkey benchmark's own pieces (src/texts/passkey.ts): the studio's eval uses exactly these.
INTRO = ('There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. '
         'I will quiz you about the important information there. ')
STANDARD_FILLER = ['The grass is green.', 'The sky is blue.', 'The sun is yellow.', 'Here we go.',
                   'There and back again.']
QUESTION = 'What is the pass key? The pass key is'

FIRST = ['Alice', 'Bruno', 'Chen', 'Dara', 'Elif', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kenji',
         'Lena', 'Marta', 'Nikolai', 'Olga', 'Pablo', 'Quentin', 'Rosa', 'Sami', 'Tomas', 'Ulla', 'Vera',
         'Wen', 'Xavier', 'Yusuf', 'Zofia']
LAST = ['Moreno', 'Okafor', 'Lindqvist', 'Tanaka', 'Novak', 'Haddad', 'Kowalski', 'Fischer', 'Silva',
        'Dubois', 'Rossi', 'Nakamura', 'Petrov', 'Jensen', 'Costa', 'Meyer', 'Ibrahim', 'Larsen']
CITIES = ['Lyon', 'Porto', 'Osaka', 'Krakow', 'Tampere', 'Bergen', 'Seville', 'Leipzig', 'Cork', 'Turin',
          'Ghent', 'Brno', 'Malmo', 'Graz', 'Bilbao', 'Split', 'Utrecht', 'Aarhus', 'Nantes', 'Basel']
JOBS = ['baker', 'pilot', 'nurse', 'painter', 'chemist', 'teacher', 'plumber', 'lawyer', 'farmer',
        'librarian', 'tailor', 'carpenter', 'surgeon', 'sailor', 'florist', 'architect']
ADJ = ['blue', 'red', 'green', 'silver', 'golden', 'small', 'old', 'north', 'east', 'hidden', 'second',
       'last', 'wooden', 'iron', 'quiet', 'bright']
NOUN = ['door', 'box', 'tower', 'gate', 'vault', 'garden', 'bridge', 'room', 'ship', 'cellar', 'lamp',
        'drawer', 'well', 'mill', 'cabin', 'chest']
KV_PREFIX = ['key', 'id', 'ref', 'item', 'code', 'entry', 'slot', 'tag']


@dataclass
class Fact:
    """One planted fact: the sentence that states it, and the question whose answer recalls it."""
    statement: str
    question: str
    answer: str  # what follows the question, leading space included


def _number(r: random.Random) -> str:
    digits = r.choice([5, 5, 5, 4, 6, 7, 3])
    return str(r.randint(10 ** (digits - 1), 10 ** digits - 1))


def make_fact(r: random.Random, used: set[str]) -> Fact:
    """A fact of a random kind and wording; `used` keeps the names in one sequence distinct."""
    for _ in range(50):
        kind = r.random()
        if kind < 0.3:  # the benchmark's pass key, and paraphrases of it
            k = _number(r)
            ident = 'pass key'
            st = r.choice([f'The pass key is {k}. Remember it. {k} is the pass key. ',
                           f'Remember this: the pass key is {k}. ',
                           f'Note that the pass key is {k}. Keep it in mind. '])
            q = r.choice([QUESTION, 'What was the pass key? The pass key is', 'Recall the pass key. It is'])
            return Fact(st.rstrip(), q, f' {k}.')
        if kind < 0.55:
            ident = f'{r.choice(ADJ)} {r.choice(NOUN)}'
            if ident in used:
                continue
            k = _number(r)
            st = r.choice([f'The code of the {ident} is {k}. ', f'The {ident} opens with the code {k}. ',
                           f'Write this down: the {ident} has code {k}. '])
            q = r.choice([f'What is the code of the {ident}? The code of the {ident} is',
                          f'The {ident} has code', f'Question: which code opens the {ident}? Answer:'])
            a = f' {k}.'
        elif kind < 0.75:
            ident = f'{r.choice(KV_PREFIX)}-{r.randint(100, 99999)}'
            if ident in used:
                continue
            v = _number(r) if r.random() < 0.7 else ''.join(r.choice('abcdefghjkmnpqrstuvwxyz') for _ in range(6))
            st = r.choice([f'{ident}: {v};', f'"{ident}": "{v}",', f'{ident} = {v}.'])
            q = r.choice([f'Look up {ident}. {ident}:', f'The value of {ident} is', f'{ident} ->'])
            a = f' {v}'
        else:
            first, last = r.choice(FIRST), r.choice(LAST)
            ident = f'{first} {last}'
            if ident in used:
                continue
            city, job = r.choice(CITIES), r.choice(JOBS)
            st = r.choice([f'{ident} lives in {city} and works as a {job}. ',
                           f'{ident}, a {job}, moved to {city} years ago. ',
                           f'Everyone knows that {ident} is a {job} from {city}. '])
            if r.random() < 0.5:
                q, a = r.choice([(f'Where does {ident} live? {ident} lives in', f' {city}.'),
                                 (f'Which city is {ident} from? From', f' {city}.')])
            else:
                q, a = r.choice([(f'What does {ident} do? {ident} works as a', f' {job}.'),
                                 (f'What is the job of {ident}? A', f' {job}.')])
        used.add(ident)
        return Fact(st.rstrip(), q, a)
    k = _number(r)
    return Fact(f'The pass key is {k}.', QUESTION, f' {k}.')


class Synthesizer:
    """Builds synthetic sequences of exactly `length` tokens (ids and answer mask)."""

    def __init__(self, encode: Callable[[str], Sequence[int]], corpus: np.ndarray, eos: int, seed: int = 0):
        self.encode = lambda s: np.asarray(encode(s), dtype=np.int32)
        self.corpus = corpus  # the real token stream, (N,) int32
        self.eos = eos
        self.r = random.Random(seed)
        self.filler_ids = [self.encode(' ' + s) for s in STANDARD_FILLER]
        self.intro = self.encode(INTRO.rstrip())

    def _filler(self, n: int) -> np.ndarray:
        """n filler tokens: a corpus window (most often), or the benchmark's sentences in order or shuffled."""
        r = self.r
        mode = r.random()
        if mode < 0.6 and len(self.corpus) > n + 1:
            s = r.randrange(0, len(self.corpus) - n - 1)
            return self.corpus[s:s + n].copy()
        out, size, i = [], 0, r.randrange(5)
        shuffled = mode >= 0.8
        while size < n:
            piece = self.filler_ids[r.randrange(5) if shuffled else i % 5]
            out.append(piece)
            size += len(piece)
            i += 1
        return np.concatenate(out)[:n]

    def sequence(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, answer_mask): facts planted at random depths, questions later, answers marked."""
        r = self.r
        n_facts = r.choice([1, 1, 2, 4, 8, 16])
        used: set[str] = set()
        facts = [make_fact(r, used) for _ in range(n_facts)]
        # Every piece is encoded with its leading space, as it would be inside running text (a
        # byte-level BPE joins a space to the word after it), so no stray space tokens appear.
        enc = [(self.encode(' ' + f.statement), self.encode(' ' + f.question), self.encode(f.answer)) for f in facts]
        planted = sum(len(s) + len(q) + len(a) for s, q, a in enc)
        lead = self.intro if r.random() < 0.5 else np.zeros(0, np.int32)
        budget = length - planted - len(lead) - 1
        if budget < 16:  # too short for these facts: one fact only
            return self.sequence_single(length)
        # Positions in the filler: each statement at a depth in [0, 1), its question after it
        # (or all questions at the end, as in the benchmark).
        at_end = r.random() < 0.4
        events = []
        for s, q, a in enc:
            p_s = r.random() * (0.9 if not at_end else 1.0)
            p_q = 1.0 if at_end else p_s + (1 - p_s) * r.random()
            events.append((p_s, 0, s, None))
            events.append((p_q, 1, q, a))
        events.sort(key=lambda e: (e[0], e[1]))
        filler = self._filler(budget)
        ids = [np.asarray([self.eos], np.int32), lead]
        mask = [np.zeros(1, np.uint8), np.zeros(len(lead), np.uint8)]
        cut = 0
        for p, _, text, ans in events:
            c = min(budget, int(p * budget))
            ids.append(filler[cut:c]); mask.append(np.zeros(c - cut, np.uint8))
            cut = c
            ids.append(text); mask.append(np.zeros(len(text), np.uint8))
            if ans is not None:
                ids.append(ans); mask.append(np.ones(len(ans), np.uint8))
        ids.append(filler[cut:]); mask.append(np.zeros(budget - cut, np.uint8))
        out, m = np.concatenate(ids), np.concatenate(mask)
        assert len(out) == length, (len(out), length)
        return out, m

    def sequence_single(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        r = self.r
        f = make_fact(r, set())
        s, q, a = self.encode(' ' + f.statement), self.encode(' ' + f.question), self.encode(f.answer)
        budget = length - len(s) - len(q) - len(a) - 1
        if budget < 0:
            raise ValueError(f'a synthetic sequence needs more than {length} tokens')
        filler = self._filler(budget)
        c = int(r.random() * budget)
        out = np.concatenate([[self.eos], filler[:c], s, filler[c:], q, a]).astype(np.int32)
        m = np.zeros(length, np.uint8)
        m[length - len(a):] = 1
        return out, m


def benchmark_prompt(encode: Callable[[str], Sequence[int]], tokens: int, depth: float, key: str) -> list[int]:
    """The studio's passkey benchmark text (src/texts/passkey.ts's standard template) of about
    `tokens` tokens, for the training script's own quick check; the studio's eval is the measure."""
    sent = ' '.join(STANDARD_FILLER) + ' '
    per = max(1, len(encode(sent)))
    n = max(1, (tokens - len(encode(INTRO)) - 40) // per)
    at = int(round(n * depth))
    text = (INTRO + sent * at + f'The pass key is {key}. Remember it. {key} is the pass key. ' + sent * (n - at)
            + QUESTION)
    return list(encode(text))
