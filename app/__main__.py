"""`python -m app` starts the desktop application, as `edgestore` does.

The launcher is the one place in `app` that reaches `ui`, and only by name at run time, so the rest of the
package stays free of widgets.
"""

import importlib

raise SystemExit(importlib.import_module("ui.main").main())
