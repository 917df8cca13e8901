"""Scoring a forest of regression trees with ONNX Runtime's tree-ensemble kernel.

The fusion's gradient-boosted trees are kept as flat node arrays (saved as JSON, no pickles);
this module turns them into one ``ai.onnx.ml`` ``TreeEnsembleRegressor`` node, built in memory
once per process, and scores rows with it. ONNX Runtime walks every (row, tree) pair in compiled
code: on the ranker's 500 candidates x 200 trees per letter and kind about three times faster than
the vectorised NumPy walk it replaced, which was one of the largest costs of coding a letter.

Splits and inputs are float64, so every test ``x <= split`` is decided exactly as scikit-learn
decides it; the kernel returns the sum of the leaf values as float32 (the operator's only output
type), which moves a log-odds by at most a few 1e-7.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

ML_OPSET = 3  # ai.onnx.ml opset with float64 split and leaf tensors


class TreeScorer:
    """The sum of the leaf values each row reaches, over a forest stored as flat node arrays:
    node ``i`` is a leaf when ``feature[i] < 0`` (its value in ``value[i]``), else ``x <= split[i]``
    goes to ``left[i]`` and anything else (NaN included) to ``right[i]``; ``roots`` are the first
    node of each tree."""

    def __init__(self, roots: np.ndarray, feature: np.ndarray, split: np.ndarray, left: np.ndarray,
                 right: np.ndarray, value: np.ndarray):
        self.arrays = (roots, feature, split, left, right, value)
        self._session, self._pid = None, None

    def __getstate__(self) -> dict:  # pickled (e.g. shipped to Spark executors) without the session
        return {"arrays": self.arrays, "_session": None, "_pid": None}

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if len(X) == 0 or len(self.arrays[0]) == 0:
            return np.zeros(len(X))
        return self._run(X)[:, 0].astype(np.float64)

    def _run(self, X: np.ndarray) -> np.ndarray:
        """The session of this process (built after a fork too: a session is not shared across
        processes; one thread, as the batch workers take one core each)."""
        if self._session is None or self._pid != os.getpid():
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            model = forest_model(*self.arrays, width=X.shape[1])
            self._session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
            self._pid = os.getpid()
        return self._session.run(None, {"X": X})[0]


OBJECTIVES = ("binary", "lambdarank")


@dataclass(frozen=True)
class BoostingParams:
    """Settings of a gradient-boosted forest. ``binary``: scikit-learn's
    ``HistGradientBoostingClassifier`` (log-loss over rows); ``lambdarank``: LightGBM's LambdaRank,
    which orders the candidates of each letter (the rows of one group) for average precision, and
    needs LightGBM, a training-time dependency only (the forest is scored as any other)."""

    trees: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 100
    seed: int = 13
    objective: str = "binary"
    rank_depth: int = 200  # lambdarank: the positions of a letter's list its gradients look at (the coder's list)

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {self.objective!r}")


class Forest:
    """A fitted binary gradient-boosting model kept as its baseline log-odds and flat node arrays
    (the layout of :class:`TreeScorer`; a leaf's ``value`` is already scaled by the learning
    rate), saved as JSON and scored by ONNX Runtime: the saved model is exactly the one evaluated,
    and loading it needs no pickles."""

    KEYS = ("roots", "feature", "split", "left", "right", "value")

    def __init__(self, baseline: float, roots: np.ndarray, feature: np.ndarray, split: np.ndarray,
                 left: np.ndarray, right: np.ndarray, value: np.ndarray):
        self.baseline = float(baseline)
        self.roots, self.feature, self.split, self.left, self.right, self.value = (
            np.asarray(roots, dtype=np.int64), np.asarray(feature, dtype=np.int64), np.asarray(split, dtype=np.float64),
            np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64), np.asarray(value, dtype=np.float64))
        self._trees = TreeScorer(self.roots, self.feature, self.split, self.left, self.right, self.value)

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, params: BoostingParams = BoostingParams()) -> "Forest":
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            max_iter=params.trees, learning_rate=params.learning_rate, max_leaf_nodes=params.max_leaf_nodes,
            min_samples_leaf=params.min_samples_leaf, early_stopping=False, random_state=params.seed,
        ).fit(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=int))
        roots, parts, offset = [], [], 0
        for (tree,) in model._predictors:  # one tree per boosting round (binary: one class)
            nodes = tree.nodes
            leaf = nodes["is_leaf"].astype(bool)
            parts.append((np.where(leaf, -1, nodes["feature_idx"]), np.where(leaf, 0.0, nodes["num_threshold"]),
                          nodes["left"] + offset, nodes["right"] + offset, np.where(leaf, nodes["value"], 0.0)))
            roots.append(offset)
            offset += len(nodes)
        columns = [np.concatenate(c) for c in zip(*parts)] if parts else [np.zeros(0)] * 5
        return cls(float(np.ravel(model._baseline_prediction)[0]), np.array(roots), *columns)

    @classmethod
    def fit_ranking(cls, X: np.ndarray, y: np.ndarray, groups: list[int],
                    params: BoostingParams = BoostingParams(objective="lambdarank")) -> "Forest":
        """LightGBM's LambdaRank over ``groups`` (the sizes of consecutive row blocks, one per
        letter): the raw score orders a letter's rows; it is no log-odds until :meth:`scaled`."""
        try:
            import lightgbm
        except ImportError as exc:
            raise ImportError("the lambdarank fusion is fitted with LightGBM: pip install 'lightgbm>=4.5,<5' "
                              "(or set the ranker's fusion_objective to binary)") from exc
        settings = {"objective": "lambdarank", "learning_rate": params.learning_rate, "num_leaves": params.max_leaf_nodes,
                    "min_data_in_leaf": params.min_samples_leaf, "seed": params.seed, "deterministic": True,
                    "force_row_wise": True, "verbose": -1, "lambdarank_truncation_level": params.rank_depth}
        data = lightgbm.Dataset(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=int), group=list(groups))
        return cls.from_lightgbm(lightgbm.train(settings, data, num_boost_round=params.trees).dump_model())

    @classmethod
    def from_lightgbm(cls, dump: dict) -> "Forest":
        """A forest from LightGBM's ``Booster.dump_model()`` (leaf values already shrunk)."""
        columns: list[list] = [[], [], [], [], []]  # feature, split, left, right, value

        def add(node: dict) -> int:
            i = len(columns[0])
            for column in columns:
                column.append(0)
            if "leaf_value" in node:
                columns[0][i], columns[4][i] = -1, float(node["leaf_value"])
                return i
            if node["decision_type"] != "<=":
                raise ValueError(f"unsupported LightGBM split {node['decision_type']!r} (numeric <= splits only)")
            columns[0][i], columns[1][i] = int(node["split_feature"]), float(node["threshold"])
            columns[2][i] = add(node["left_child"])
            columns[3][i] = add(node["right_child"])
            return i

        roots = [add(tree["tree_structure"]) for tree in dump["tree_info"]]
        return cls(0.0, np.array(roots), *(np.array(c) for c in columns))

    def scaled(self, scale: float, shift: float) -> "Forest":
        """The forest whose raw score is ``scale * raw + shift`` (a calibration folded into the leaves)."""
        return Forest(scale * self.baseline + shift, self.roots, self.feature, self.split, self.left, self.right,
                      scale * self.value)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The log-odds of each row."""
        return self.baseline + self._trees(X)

    def to_dict(self) -> dict:
        return {"baseline": self.baseline, **{k: getattr(self, k).tolist() for k in self.KEYS}}

    @classmethod
    def from_dict(cls, d: dict) -> "Forest":
        return cls(d["baseline"], *(d[k] for k in cls.KEYS))


def forest_model(roots, feature, split, left, right, value, width: int):
    """An ONNX model with one ``TreeEnsembleRegressor`` node (``X`` float64 rows of ``width``
    features -> ``Y``, their summed leaf values) equivalent to the flat node arrays."""
    from onnx import TensorProto, helper, numpy_helper

    tree = np.searchsorted(roots, np.arange(len(feature)), side="right") - 1  # the tree of each node
    local = np.arange(len(feature)) - roots[tree]  # node ids restart in each tree
    leaf = feature < 0
    node = helper.make_node(
        "TreeEnsembleRegressor", ["X"], ["Y"], domain="ai.onnx.ml",
        nodes_treeids=tree.tolist(), nodes_nodeids=local.tolist(),
        nodes_featureids=np.where(leaf, 0, feature).tolist(),
        nodes_modes=["LEAF" if is_leaf else "BRANCH_LEQ" for is_leaf in leaf],
        nodes_truenodeids=np.where(leaf, 0, left - roots[tree]).tolist(),
        nodes_falsenodeids=np.where(leaf, 0, right - roots[tree]).tolist(),
        nodes_missing_value_tracks_true=[0] * len(feature),
        target_treeids=tree[leaf].tolist(), target_nodeids=local[leaf].tolist(), target_ids=[0] * int(leaf.sum()),
        n_targets=1, aggregate_function="SUM", post_transform="NONE",
    )
    for name, values in (("nodes_values_as_tensor", np.where(leaf, 0.0, split)),
                         ("target_weights_as_tensor", value[leaf]), ("base_values_as_tensor", np.zeros(1))):
        node.attribute.append(helper.make_attribute(name, numpy_helper.from_array(np.asarray(values, dtype=np.float64))))
    graph = helper.make_graph([node], "forest", [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, width])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
    model.ir_version = 8
    return model
