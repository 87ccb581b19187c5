"""A two-stage threaded pipeline for the bundled multi-threaded python3 trace: the main thread builds
batches of records and queues them; two worker threads each take batches, encode every record as
JSON, tokenise its text with a regular expression and queue a summary back; the main thread merges
the summaries. Records are born on the main thread and freed on a worker, summaries the other way
round: blocks cross threads in both directions."""
import json
import queue
import re
import threading

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
BATCHES = 80
BATCH = 40
WORKERS = 2
token = re.compile(r"\b([a-z]+)\b")
todo = queue.Queue(maxsize=8)
done = queue.Queue()


def work():
    while True:
        batch = todo.get()
        if batch is None:
            return
        counts = {}
        size = 0
        for record in batch:
            size += len(json.dumps(record))
            for word in token.findall(record["text"]):
                counts[word] = counts.get(word, 0) + 1
        done.put({"size": size, "counts": counts})


workers = [threading.Thread(target=work) for _ in range(WORKERS)]
for w in workers:
    w.start()
for b in range(BATCHES):
    todo.put([
        {
            "id": i,
            "name": f"{WORDS[i % len(WORDS)]}-{i}",
            "tags": [WORDS[(i * k) % len(WORDS)] for k in range(1 + i % 5)],
            "text": " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3 + i % 17)),
        }
        for i in range(b * BATCH, (b + 1) * BATCH)
    ])
for _ in workers:
    todo.put(None)
total = {}
size = 0
for _ in range(BATCHES):
    summary = done.get()
    size += summary["size"]
    for word, n in summary["counts"].items():
        total[word] = total.get(word, 0) + n
for w in workers:
    w.join()
print(json.dumps({"bytes": size, "words": sorted(total.items())[:3]}, sort_keys=True))
