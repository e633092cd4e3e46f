"""penguins: the code that ships with the model to production.

Every stage of the workshop imports from here: the notebooks, the command line, the
service and the container all use the very same functions and the same wrapper class.
"""

__version__ = "0.1.0"
