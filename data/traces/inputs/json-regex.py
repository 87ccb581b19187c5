"""A small JSON and regular-expression workload for the bundled python3 trace: builds records,
round-trips them through JSON, and tokenises their text with a few regular expressions."""
import json
import re

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
records = [
    {
        "id": i,
        "name": f"{WORDS[i % len(WORDS)]}-{i}",
        "tags": [WORDS[(i * k) % len(WORDS)] for k in range(1 + i % 5)],
        "text": " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3 + i % 17)),
        "score": (i * 7919) % 1000 / 10,
    }
    for i in range(4000)
]
decoded = json.loads(json.dumps(records))

token = re.compile(r"\b([a-z]+)\b")
pair = re.compile(r"(\w+)-(\d+)")
counts = {}
for r in decoded:
    for word in token.findall(r["text"]):
        counts[word] = counts.get(word, 0) + 1
    m = pair.match(r["name"])
    r["number"] = int(m.group(2)) if m else None
summary = {"records": len(decoded), "words": sorted(counts.items())[:5], "total": sum(counts.values())}
print(json.dumps(summary, sort_keys=True))
