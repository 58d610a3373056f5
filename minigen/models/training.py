"""The epoch loop the models share: minibatch descent with a progress bar."""
import functools
import operator

from minigen.progress import progress


def train_epoch(model, loader, optimizer, loss_terms, desc="", show_progress=True):
    """One pass over ``loader``: for each batch, minimize the sum of ``loss_terms(*batch)``.

    loss_terms returns a tuple of scalar Tensors (one term, or e.g. reconstruction and KL).
    Returns each term's mean per example over the epoch, as Python floats.
    """
    model.train()
    bar = progress(loader, desc=desc, disable=None if show_progress else True)
    totals, count = None, 0
    for batch in bar:
        terms = loss_terms(*batch)
        optimizer.zero_grad()
        functools.reduce(operator.add, terms).backward()
        optimizer.step()
        values = [term.item() for term in terms]
        n = len(batch[0])
        totals = [n * v for v in values] if totals is None else [t + n * v for t, v in zip(totals, values)]
        count += n
        bar.set_postfix(loss=sum(values))
    return [t / count for t in totals]
