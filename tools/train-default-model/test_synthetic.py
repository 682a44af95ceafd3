"""Checks of the synthetic long-range tasks with a character-level stand-in tokenizer (no torch needed):
`python3 -m unittest discover -s tools/train-default-model -p 'test_*.py'`."""
import random
import unittest

import numpy as np

from synthetic import Synthesizer, make_fact, benchmark_prompt


def encode(s):
    return [ord(c) % 251 + 1 for c in s]


def decode(ids):
    return ''.join(chr(i - 1) if 32 <= i - 1 < 127 else '?' for i in ids)


class SyntheticTest(unittest.TestCase):
    def test_lengths_masks_and_answers(self):
        corpus = np.asarray(encode('lorem ipsum dolor sit amet ' * 4000), dtype=np.int32)
        syn = Synthesizer(encode, corpus, eos=0, seed=3)
        for length in (300, 1000, 4096, 8193):
            for _ in range(30):
                ids, mask = syn.sequence(length)
                self.assertEqual(ids.shape, (length,))
                self.assertEqual(mask.shape, (length,))
                self.assertEqual(ids[0], 0)
                self.assertGreater(mask.sum(), 0)
                # every answer span is preceded, somewhere earlier, by a statement containing it
                text = decode(ids)
                spans, i = [], 0
                while i < length:
                    if mask[i]:
                        j = i
                        while j < length and mask[j]:
                            j += 1
                        spans.append((i, j))
                        i = j
                    else:
                        i += 1
                for a, b in spans:
                    ans = text[a:b].strip().rstrip('.')
                    self.assertIn(ans, text[:a], f'answer {ans!r} not stated before position {a}')

    def test_facts_distinct_names(self):
        r = random.Random(1)
        used = set()
        facts = [make_fact(r, used) for _ in range(40)]
        self.assertEqual(len(facts), 40)
        for f in facts:
            self.assertFalse(f.statement.endswith(' '))
            self.assertTrue(f.answer.startswith(' '))

    def test_benchmark_prompt(self):
        ids = benchmark_prompt(encode, 2000, 0.5, '12345')
        text = decode(ids)
        self.assertIn('The pass key is 12345.', text)
        self.assertTrue(text.endswith('The pass key is'))
        self.assertLess(abs(len(ids) - 2000), 200)


if __name__ == '__main__':
    unittest.main()
