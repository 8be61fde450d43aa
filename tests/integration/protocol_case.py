"""Base class for protocol-level tests: one reference backend per class, a
fresh backend state per test, and on tear-down every server started by the
test is closed and its whole stdout checked: nothing but JSON-RPC, each
message valid against the official schema of its request's era."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "backend"))

from refbackend import RefBackend  # noqa: E402
import schemacheck  # noqa: E402


class SchemaCheckedCase(unittest.TestCase):
    backend_seed = 7

    @classmethod
    def setUpClass(cls):
        cls.rb = RefBackend(seed=cls.backend_seed).start()

    @classmethod
    def tearDownClass(cls):
        cls.rb.stop()

    def setUp(self):
        self.rb.reset()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.close()
        for p in self.procs:
            self.assertEqual(p.garbage, [], "non-JSON on stdout")
            schemacheck.check_transcript(p.sent, p.messages)
