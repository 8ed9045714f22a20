# A program whose names are hostile to a report: class names and dict keys
# with quotes, backslashes, newlines, non-ASCII text and a "</script>" that
# would end an HTML <script> block if it were not escaped.  Used by
# tests/check_pictures.py and tests/check_html_chromium.py (the pictures
# suite), not by the samples suite: its type names are no identifiers.

import gc

# The garbage cycle below must still be there at the exit snapshot.
gc.disable()

INJECTION = '</script><script>window.__linger_pwned = 1</script><!--'
NAME = 'Evil"Name\\ ' + INJECTION + '\nline two caf\u00e9 \u2603'

Hostile = type(NAME, (), {})


def on_event(self):
    return self


Hostile.on_event = on_event

# A live bound-method cycle through a dict key no attribute could have.
keeper = Hostile()
keeper.__dict__['call"back\\\n' + INJECTION + ' \u00e9'] = keeper.on_event

# A garbage reference cycle through the same kind of key.
Node = type('Node"\\' + INJECTION, (), {})
a = Node()
b = Node()
a.__dict__['peer "\u2603" \\x'] = b
b.__dict__['peer\n' + INJECTION] = a
del a, b

print('hostile names set up', gc.isenabled())
