"""The file formats socorg reads: delimited text (its delimiters) and spreadsheets, by extension."""

from __future__ import annotations

# Delimited text: `.csv`, `.tsv` and `.txt` (Excel's "Unicode text" save is UTF-16 with tabs under a
# `.txt` name; offices save text exports with commas, tabs, semicolons or pipes alike).
TEXT_FORMATS = ("csv", "tsv", "txt")
SPREADSHEETS = ("xlsx", "xlsm", "xls", "ods")  # Excel 2007+, macro-enabled (macros never run), 97–2003, ODF
READABLE = (*TEXT_FORMATS, *SPREADSHEETS)

# The delimiters a text export may use, by the name a layout may pin them with (`delimiter: tab`).
DELIMITERS = {"comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|"}
DELIMITER_NAMES = {char: name for name, char in DELIMITERS.items()}
# The order delimiters are tried in when a layout pins none: a `.csv` is most often comma-separated, a
# `.tsv` or `.txt` tab-separated. The delimiter whose reading finds the header naming the most known
# columns wins; a tie goes to the earlier one.
TRY_ORDER = {
    "csv": (",", ";", "\t", "|"),
    "tsv": ("\t", ",", ";", "|"),
    "txt": ("\t", ",", ";", "|"),
}


def file_pattern(pattern: str) -> str:
    """A layout's file name pattern with `{ext}` standing for every extension socorg reads, in any case.

    >>> file_pattern("^registry_.+[.]{ext}$")
    '^registry_.+[.](?i:csv|tsv|txt|xlsx|xlsm|xls|ods)$'
    """
    return pattern.replace("{ext}", f"(?i:{'|'.join(READABLE)})")


def extension(name: str) -> str:
    """A file name's extension in lower case, without the dot.

    >>> extension("registry_320500_20231031.TXT")
    'txt'
    """
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def delimiter_of(spec: str | None) -> str | None:
    """A layout's `delimiter:` as the character: a name of DELIMITERS or the character itself.

    >>> [delimiter_of(x) for x in ("tab", "\\t", ";", None)]
    ['\\t', '\\t', ';', None]
    """
    if spec is None:
        return None
    if spec in DELIMITERS:
        return DELIMITERS[spec]
    if spec in DELIMITER_NAMES:
        return spec
    if spec == "\\t":
        return "\t"
    raise ValueError(f"delimiter {spec!r}: expected one of {', '.join(DELIMITERS)}")
