"""GroupAssembler: a group's samples are those of its summary's policy version (aborted or
superseded samples of an older version are left out). Run: python3 -m unittest discover tests"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from quasiroll_client import MESSAGES, GroupAssembler  # noqa: E402


def sample_event(prompt, index, version, aborted=False):
    e = MESSAGES["JobEvent"]()
    e.sample.prompt_id, e.sample.index, e.sample.policy_version = prompt, index, version
    if aborted:
        e.sample.finish_reason = 5
    return e


class GroupAssemblerTest(unittest.TestCase):
    def test_only_the_summary_version_counts(self):
        a = GroupAssembler()
        events = [sample_event("p", 0, 1), sample_event("p", 1, 1, aborted=True),
                  sample_event("p", 1, 2), sample_event("p", 0, 2)]
        for e in events:
            self.assertIsNone(a.add(e))
        g = MESSAGES["JobEvent"]()
        g.group.prompt_id, g.group.k, g.group.policy_version = "p", 2, 2
        done = a.add(g)
        self.assertEqual([(s.index, s.policy_version) for s in done.samples], [(0, 2), (1, 2)])
        self.assertEqual(done.policy_version, 2)


if __name__ == "__main__":
    unittest.main()
