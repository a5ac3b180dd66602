# Sourced by scripts/test: the independent checkers of the EMR interface, in a virtual
# environment under target/ (never committed):
#   - fhir.resources 6.1.0, whose models are FHIR R4 (4.0.1) — later lines model R4B and
#     R5 — on pydantic 1, validates every FHIR resource the center emits;
#   - schemathesis fuzzes the center's EMR operations against crates/center/openapi.json;
#   - qpdf and pdftotext (Debian, with poppler-data for the Adobe-Japan1 CMaps) check the
#     PDFs of medication and check-up information.
# Exports ONSHI_PYTHON (the environment's interpreter) and ONSHI_REQUIRE_PYTHON=1, so the
# tests that need them fail rather than skip.
python_venv="target/pyenv"
python_reqs=("fhir.resources==6.1.0" "pydantic[email]==1.10.21" "schemathesis==4.32.5")
pdf_packages=(qpdf poppler-utils poppler-data python3-venv)
pdf_missing=()
for p in "${pdf_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || pdf_missing+=("$p")
done
# A Python with venv from elsewhere does as well as Debian's python3-venv.
if command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' 2>/dev/null; then
    pdf_missing=($(printf '%s\n' "${pdf_missing[@]}" | grep -v '^python3-venv$' || true))
fi
if ((${#pdf_missing[@]})); then
    say "installing ${pdf_missing[*]}"
    [ "$(id -u)" = 0 ] || { echo "the EMR interface tests need: ${pdf_missing[*]} (run as root)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pdf_missing[@]}" >/dev/null
fi
if ! "$python_venv/bin/python" -c 'import fhir.resources, schemathesis' 2>/dev/null \
    || [ "$("$python_venv/bin/python" -c 'import fhir.resources as f; print(f.__fhir_version__)')" != 4.0.1 ]; then
    say "pip install ${python_reqs[*]} (into $python_venv)"
    python3 -m venv "$python_venv"
    "$python_venv/bin/pip" install -q --disable-pip-version-check "${python_reqs[@]}"
fi
export ONSHI_PYTHON="$PWD/$python_venv/bin/python"
export ONSHI_REQUIRE_PYTHON=1
