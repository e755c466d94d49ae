"""Record AMI events as text (one `Key: Value` block per event) for replay in tests.

Usage: .venv/bin/python scripts/ami_capture.py OUT.txt SECONDS
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hotline.asterisk.ami import AmiClient
from hotline.config.settings import load_settings


async def main(out: Path, seconds: float) -> None:
    ami = AmiClient(load_settings().ami)
    await ami.connect()
    await asyncio.wait_for(ami.logged_in.wait(), 10)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    with out.open("w", encoding="utf-8") as fh:
        while (left := end - loop.time()) > 0:
            try:
                ev = await asyncio.wait_for(ami.events.get(), left)
            except TimeoutError:
                break
            fh.write("".join(f"{k}: {v}\n" for k, v in ev.items()) + "\n")
            fh.flush()
    ami.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), float(sys.argv[2])))
