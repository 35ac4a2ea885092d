"""Executes the Rhai notebooks in notebooks/ with `jupyter nbconvert --execute` and checks what
the cells produced: no error outside the cells tagged `raises-exception`, a positioned error
(`In[N]:LINE:COL`) in those, an inline PNG figure in every notebook, and a value shown for
every cell ending in a variable name.

Usage: python run_notebooks.py OUTPUT_DIR [NOTEBOOK ...]  (default: every notebook in
notebooks/ whose kernel is bumplab). NOTEBOOK_CELL_TIMEOUT: seconds a cell may take (900). Run by tests/jupyter.rs with JUPYTER_PATH set.
"""
import glob
import json
import os
import re
import subprocess
import sys
import time


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")


def rhai_notebooks():
    books = []
    for path in sorted(glob.glob("notebooks/*.ipynb")):
        with open(path) as f:
            if json.load(f)["metadata"].get("kernelspec", {}).get("name") == "bumplab":
                books.append(path)
    return books


def run(path, out_dir):
    started = time.time()
    subprocess.run(
        ["jupyter", "nbconvert", "--to", "notebook", "--execute",
         f"--ExecutePreprocessor.timeout={os.environ.get('NOTEBOOK_CELL_TIMEOUT', '900')}",
         "--output-dir", out_dir, path],
        check=True,
    )
    executed = os.path.join(out_dir, os.path.basename(path))
    with open(executed) as f:
        book = json.load(f)
    pngs = 0
    rhai = book["metadata"]["kernelspec"]["name"] == "bumplab"
    for index, cell in enumerate(book["cells"]):
        if cell["cell_type"] != "code":
            continue
        where = f"{path} cell {index}"
        outputs = cell["outputs"]
        errors = [o for o in outputs if o["output_type"] == "error"]
        pngs += sum("image/png" in o.get("data", {}) for o in outputs
                    if o["output_type"] in ("display_data", "execute_result"))
        if "raises-exception" in cell["metadata"].get("tags", []):
            check(errors, f"{where} was meant to fail and did not")
            trace = "\n".join(errors[0]["traceback"])
            check(not rhai or ("In[" in trace and ":1:" in trace), f"{where}: error without position: {trace}")
        else:
            check(not errors, f"{where} failed: {errors[0]['traceback'] if errors else ''}")
        source = "".join(cell["source"]).rstrip()
        last = source.splitlines()[-1] if source else ""
        if rhai and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", last):
            check(any(o["output_type"] == "execute_result" for o in outputs),
                  f"{where} ends in an expression but showed no value")
    check(pngs > 0, f"{path} displayed no figure")
    print(f"ok: {path}: {pngs} figures, {time.time() - started:.0f} s")


def main():
    out_dir = sys.argv[1]
    books = sys.argv[2:]
    if not books:
        books = rhai_notebooks()
        check(len(books) >= 3, f"expected the three Rhai notebooks, found {books}")
    for path in books:
        run(path, out_dir)


if __name__ == "__main__":
    main()
