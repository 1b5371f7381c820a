"""Tidying by preference: a person's example placements are summarised into rules, and
the rules decide where every loose object on the table goes (TidyBot, Wu et al. 2023).

The rules are structured (an ordered list of conditions on what perception and sensing
know about an object, each naming a receptacle), so applying a summary is exact; the
language model's part is choosing which of the summaries consistent with the examples
the person meant, and placing objects no rule covers.
"""
