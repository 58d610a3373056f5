"""PyTorch's options that minigen accepts in their place but does not implement.

Every public callable takes PyTorch's positional arguments in PyTorch's order, so that a
value meant for one never lands in another; an option left out of minigen is accepted
at its default and refused, by name, otherwise.
"""


def unsupported(op, **options):
    """Raise NotImplementedError naming the first option set away from its default.

    options: name=(value, default), e.g. ``unsupported("dropout", inplace=(inplace, False))``.
    """
    for name, (value, default) in options.items():
        at_default = value is None if default is None else (value is default or value == default)
        if not at_default:
            raise NotImplementedError(f"{op}: {name}={value!r} is not implemented in minigen "
                                      f"(only the default, {name}={default!r})")
