"""Tic-tac-toe and Connect Four: k-in-a-row games on a grid, in plain NumPy.

A state is an int8 array (rows, cols): +1 for the first player's stones, -1 for the
second's, 0 for empty. Whose turn it is follows from the count of stones (equal counts:
+1 to move), so a state is just its board and `state.tobytes()` is a hashable key for
memos and caches. States are never changed in place: `play` returns a new array.

Moves are ints in [0, num_moves): a cell `row * cols + col` in tic-tac-toe, a column in
Connect Four (the stone drops to the lowest empty row; row 0 is the top).
"""

import numpy as np


def _lines(rows, cols, k):
    """Flat cell indices of every k-long row, column and diagonal: (num_lines, k)."""
    grid = np.arange(rows * cols).reshape(rows, cols)
    lines = []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):  # row, column, both diagonals
        for r in range(rows):
            for c in range(cols):
                end_r, end_c = r + (k - 1) * dr, c + (k - 1) * dc
                if 0 <= end_r < rows and 0 <= end_c < cols:
                    lines.append([grid[r + i * dr, c + i * dc] for i in range(k)])
    return np.array(lines)


class KInARow:
    """A two-player game: place stones on a (rows, cols) grid, k in a line wins.

    The interface every game here shares (and the search in `games.mcts` relies on):
    `initial()`, `to_move(state)`, `legal_moves(state)`, `play(state, move)`,
    `winner(state)`, `to_planes(state)` (and back: `from_planes`),
    `symmetries(planes, policy)`, and the sizes
    `num_moves` and `planes_shape` (the network's input and policy width).
    """

    def __init__(self, rows, cols, k, gravity, name):
        self.rows, self.cols, self.k, self.gravity, self.name = rows, cols, k, gravity, name
        self.lines = _lines(rows, cols, k)  # (num_lines, k)
        self.num_moves = cols if gravity else rows * cols
        self.planes_shape = (rows, cols, 2)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def initial(self):
        """The empty board, first player (+1) to move."""
        return np.zeros((self.rows, self.cols), dtype="int8")

    def to_move(self, state):
        """+1 or -1: the player whose turn it is."""
        return 1 if int(np.sum(state)) == 0 else -1

    def legal_moves(self, state):
        """Sorted int array of the moves allowed on this board (empty cells or columns
        with room); it does not look at `winner`, so check that first."""
        if self.gravity:
            return np.flatnonzero(state[0] == 0)  # the top cell of the column is free
        return np.flatnonzero(state.ravel() == 0)

    def play(self, state, move):
        """A new board with the player to move's stone placed by `move`.

        Raises:
            ValueError: the move is outside [0, num_moves) or not legal here.
        """
        if not 0 <= move < self.num_moves or move not in self.legal_moves(state):
            raise ValueError(f"{self.name}: move {move} is not legal here; legal moves: "
                             f"{self.legal_moves(state).tolist()}")
        board = state.copy()
        if self.gravity:
            row = np.flatnonzero(state[:, move] == 0)[-1]  # the lowest empty row
            board[row, move] = self.to_move(state)
        else:
            board.flat[move] = self.to_move(state)
        return board

    def winner(self, state):
        """+1 or -1 if that player has k in a line, 0 for a draw (full board), else None."""
        sums = state.ravel()[self.lines].sum(axis=1)  # (num_lines,)
        if np.any(sums == self.k):
            return 1
        if np.any(sums == -self.k):
            return -1
        return 0 if np.all(state != 0) else None

    def to_planes(self, state):
        """(rows, cols, 2) float32 from the point of view of the player to move: plane 0
        their stones, plane 1 the opponent's. One network then plays both sides."""
        own = state * self.to_move(state)
        return np.stack([own == 1, own == -1], axis=-1).astype("float32")

    def from_planes(self, planes):
        """The board back from `to_planes` (the side to move follows from the counts)."""
        own, opp = planes[..., 0].astype("int8"), planes[..., 1].astype("int8")
        me = 1 if own.sum() == opp.sum() else -1
        return (own - opp) * me

    def symmetries(self, planes, policy):
        """The (planes, policy) pairs equivalent to one training example.

        A symmetry of the board maps moves to moves, so the policy target is permuted
        with the board: a move's probability follows its cell (or column).
        """
        raise NotImplementedError


class TicTacToe(KInARow):
    """Tic-tac-toe: 3x3, three in a line; moves are the 9 cells."""

    def __init__(self):
        super().__init__(3, 3, 3, gravity=False, name="tictactoe")

    def symmetries(self, planes, policy):
        """The 8 symmetries of the square (4 rotations, each also mirrored): a list of 8
        pairs (planes (3, 3, c), policy (9,)), the identity first."""
        grid = np.reshape(policy, (self.rows, self.cols))
        pairs = []
        for flip in (False, True):
            p, g = (planes[:, ::-1], grid[:, ::-1]) if flip else (planes, grid)
            for turns in range(4):
                pairs.append((np.rot90(p, turns, axes=(0, 1)).copy(),
                              np.rot90(g, turns).ravel().copy()))
        return pairs


class ConnectFour(KInARow):
    """Connect Four: 6 rows x 7 columns, stones fall down, four in a line; moves are the
    7 columns."""

    def __init__(self):
        super().__init__(6, 7, 4, gravity=True, name="connect4")

    def symmetries(self, planes, policy):
        """Gravity leaves one symmetry, the left-right mirror: [(planes, policy), mirrored]."""
        return [(planes.copy(), np.array(policy, copy=True)),
                (planes[:, ::-1].copy(), np.array(policy)[::-1].copy())]
