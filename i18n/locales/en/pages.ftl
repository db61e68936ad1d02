### What every page the server serves has.

# The language menu of every page; each language is named in itself (English, Svenska).
page-language = Language
