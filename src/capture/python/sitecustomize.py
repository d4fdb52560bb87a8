# Put on PYTHONPATH by `cpymem capture` only. site.py imports it during start-up, before the script
# runs; it attaches the recorder's helper and then puts everything back as it would have been
# without capture: PYTHONPATH in os.environ, sys.path, and any sitecustomize of the user's, which
# it runs in its place. The script itself runs exactly as `python script.py` would run it.
def _cpymem_bootstrap():
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ
    orig = env.pop("CPYMEM_ORIG_PYTHONPATH", None)
    if orig is None or orig == "":
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = orig

    import cpymem_capture

    cpymem_capture._attach()

    def ours(p):
        try:
            return os.path.abspath(p or ".") == here
        except (TypeError, ValueError):
            return False

    sys.path[:] = [p for p in sys.path if not ours(p)]
    sys.path_importer_cache.pop(here, None)

    # Run the user's own sitecustomize, if there is one further down the path, as `sitecustomize`.
    # Only the import system's frozen core is used: importing importlib.util here would add
    # thousands of recorded allocations to every capture.
    import importlib.machinery

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is not None and spec.loader is not None:
        bootstrap = sys.modules.get("_frozen_importlib")
        if bootstrap is not None and hasattr(bootstrap, "module_from_spec"):
            module = bootstrap.module_from_spec(spec)
        else:
            import importlib.util

            module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)


_cpymem_bootstrap()
del _cpymem_bootstrap
