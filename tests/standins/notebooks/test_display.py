"""display(), DataFrame.display() and displayHTML() are recorded as text and frames."""
from __future__ import annotations

import pandas as pd

from mlemu.standins import notebooks


def test_display_kinds(write_notebook):
    path = write_notebook("D.py", """
        import pandas as pd
        frame = pd.DataFrame({"a": range(3), "b": list("xyz")})
        display(frame)
        frame.display()
        display([{"k": 1}, {"k": 2}])
        display(frame["a"])
        displayHTML("<b>bold</b>")
        display("plain text")
        display()
    """, """
        big = pd.DataFrame({"n": range(10_001)})
        display(big)
    """)
    run = notebooks.run(path)
    kinds = [(d.kind, d.cell_index) for d in run.displays]
    assert kinds == [("table", 0), ("table", 0), ("table", 0), ("table", 0), ("html", 0), ("text", 0), ("table", 1)]
    first = run.displays[0]
    pd.testing.assert_frame_equal(first.frame, pd.DataFrame({"a": range(3), "b": list("xyz")}))
    assert "a  b" in first.text and "2  z" in first.text
    assert run.displays[2].frame.to_dict("list") == {"k": [1, 2]}
    assert run.displays[4].text == "<b>bold</b>" and run.displays[5].text == "plain text"
    last = run.displays[-1]
    assert last.truncated and len(last.frame) == 10_000 and "first 10000 rows" in last.text
    assert len(run.tables()) == 5
    assert not hasattr(pd.DataFrame, "display")            # only while the notebook runs


def test_secrets_are_redacted_in_output_and_displays(write_notebook, monkeypatch):
    # the value comes back through dbutils.secrets (tested with the plugin in test_secrets);
    # here the runtime's redaction alone
    from mlemu.standins.notebooks import runtime

    original = runtime.Runner._init_namespace

    def with_secret(self):
        original(self)
        self.secret_seen(b"hunter2")
    monkeypatch.setattr(runtime.Runner, "_init_namespace", with_secret)
    run = notebooks.run(write_notebook("S.py", 'print("pw=hunter2")\ndisplay("hunter2!")'))
    assert run.output == "pw=[REDACTED]\n" and run.displays[0].text == "[REDACTED]!"
