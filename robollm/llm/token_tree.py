"""Pack a step's candidates into one prefix tree, so shared words are computed once.

SayCan candidates repeat themselves: " pick up the red block and place it" starts thirteen
of them. In a prefix tree each distinct prefix is one node; a node attends to the prompt and
to its ancestors only, and sits at the position it would have in a separate pass. Running the
tree as one row after the cached prompt gives each candidate token exactly the context of
the naive one-pass-per-candidate computation, with about half the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class TokenTree:
    """Nodes in insertion order (a parent always precedes its children).

    ``paths[c][k]`` is the node whose output predicts token ``k + 1`` of candidate ``c``.
    """

    tokens: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    paths: list[list[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)


def build_tree(sequences: list[list[int]]) -> TokenTree:
    """A tree of every proper prefix of each sequence (the last token is only a target)."""
    tree = TokenTree()
    children: dict[tuple[int, int], int] = {}
    for sequence in sequences:
        parent, path = -1, []
        for depth, token in enumerate(sequence[:-1]):
            node = children.get((parent, token))
            if node is None:
                node = len(tree.tokens)
                children[(parent, token)] = node
                tree.tokens.append(token)
                tree.parents.append(parent)
                tree.depths.append(depth)
            path.append(node)
            parent = node
        tree.paths.append(path)
    return tree


def tree_mask(tree: TokenTree, prompt_len: int, dtype: torch.dtype, window: int | None = None) -> torch.Tensor:
    """Additive attention mask ``[1, 1, nodes, prompt_len + nodes]`` for the tree's row.

    Additive rather than boolean so it means the same to every attention implementation
    (sdpa takes it as a bias, eager adds it). With ``window`` (a sliding-window layer's),
    a node at position p sees only the keys at positions above p - window, as in its
    model's own sliding mask.
    """
    n = len(tree)
    own = torch.zeros((n, n), dtype=torch.bool)
    for node, parent in enumerate(tree.parents):
        if parent >= 0:
            own[node] = own[parent]
        own[node, node] = True
    seen = torch.ones((n, prompt_len), dtype=torch.bool)
    if window is not None:
        depth = torch.tensor(tree.depths)[:, None]
        seen = torch.arange(prompt_len)[None, :] > prompt_len + depth - window
        own &= (depth - depth.T) < window  # ancestors further back than the window
    allowed = torch.cat([seen, own], dim=1)
    mask = torch.zeros(allowed.shape, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[None, None]
