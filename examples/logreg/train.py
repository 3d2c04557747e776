"""Seeded logistic regression on generated data, in plain Python 3 (no packages).

What a fetchml job looks like: it prints progress, logs metrics with fetchml_metrics.py (JSON
lines to $FETCHML_METRICS) and saves a model into $FETCHML_OUTPUT (falls back to ./output when run
by hand). Same seed, same result, byte for byte.
"""
import argparse
import json
import math
import os
import random
import time

from fetchml_metrics import log_metrics, reset_metrics


def make_data(n, dim, rng):
    true_w = [rng.uniform(-2, 2) for _ in range(dim)]
    xs, ys = [], []
    for _ in range(n):
        x = [rng.gauss(0, 1) for _ in range(dim)]
        z = sum(w * v for w, v in zip(true_w, x)) + rng.gauss(0, 0.5)
        xs.append(x)
        ys.append(1 if z > 0 else 0)
    return xs, ys


def sigmoid(z):
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def evaluate(w, b, xs, ys):
    loss, correct = 0.0, 0
    for x, y in zip(xs, ys):
        p = sigmoid(sum(wi * xi for wi, xi in zip(w, x)) + b)
        p = min(max(p, 1e-12), 1 - 1e-12)
        loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        correct += (p >= 0.5) == (y == 1)
    return loss / len(xs), correct / len(xs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to pause per epoch")
    args = parser.parse_args()

    out_dir = os.environ.get("FETCHML_OUTPUT", "output")
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(args.seed)
    xs, ys = make_data(args.samples, args.dim, rng)
    split = int(0.8 * len(xs))
    train_x, train_y, test_x, test_y = xs[:split], ys[:split], xs[split:], ys[split:]

    w, b = [0.0] * args.dim, 0.0
    reset_metrics()
    print(f"training on {len(train_x)} samples, {args.dim} features, seed {args.seed}", flush=True)
    for epoch in range(1, args.epochs + 1):
        started = time.time()
        order = list(range(len(train_x)))
        rng.shuffle(order)
        for i in order:
            x, y = train_x[i], train_y[i]
            err = sigmoid(sum(wi * xi for wi, xi in zip(w, x)) + b) - y
            w = [wi - args.lr * err * xi for wi, xi in zip(w, x)]
            b -= args.lr * err
        loss, acc = evaluate(w, b, test_x, test_y)
        log_metrics(step=epoch, loss=round(loss, 6), accuracy=round(acc, 6))
        print(f"epoch {epoch:3d}/{args.epochs}  loss {loss:.4f}  accuracy {acc:.3f}  ({time.time() - started:.2f}s)", flush=True)
        if args.sleep:
            time.sleep(args.sleep)

    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump({"weights": w, "bias": b, "seed": args.seed, "epochs": args.epochs}, f, indent=2)
    print(f"done: accuracy {acc:.3f}; model saved to {out_dir}/model.json", flush=True)


if __name__ == "__main__":
    main()
