# Writes OUTPUT, a C header holding INPUT's text as the string NAME (the
# fuzz runtime that C reproducers begin with).
file(READ "${INPUT}" text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE "${OUTPUT}" "/* Generated from ${INPUT} by embed.cmake. */\nstatic const char ${NAME}[] =\n\"${text}\";\n")
