### Det som varje sida som servern visar har.

# Språkmenyn på varje sida; varje språk heter som på sig självt (English, Svenska).
page-language = Språk
