"""Chinese-text helpers shared by more than one stage (ingest, retrieve, answer), so none imports another.

- ``normalize``: width, script (traditional -> simplified), invisible characters; ``squash`` for comparing quotes
- ``sentences``: sentence splitting
- ``lexicon``: the jieba lexicon (domain userdict, stopwords, POS tags, word frequencies) and its version
- ``patterns``: the strip patterns (solicitation, instructions, furniture, contact details) and hostile sentences
- ``headings``: the heading grammar (第X章/节/条, 一、, (一), 1., (1)) and Chinese numerals
- ``figures``: amounts, rates, durations and dates in text
- ``places``: the gazetteer of provinces and cities
"""
