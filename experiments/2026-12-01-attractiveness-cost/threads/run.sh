set -e
OUT=${OUT:?set OUT to the output folder}; mkdir -p "$OUT"
for i in 1 2 3; do
  for b in 1 10; do
    PYTHONPATH=. .venv/bin/python experiments/2026-12-01-attractiveness-cost/pipeline_cost.py --images 60 --rounds 5 --paired --block $b --centre \
      --only "bundle head (default)" "bundle head, centre patch + joint descriptor head" --out $OUT/pipeline_cost-ops-b$b-$i.json > /dev/null 2>&1
  done
  PYTHONPATH=. .venv/bin/python experiments/2026-12-01-attractiveness-cost/pipeline_cost.py --images 60 --rounds 5 --paired --block 10 --centre \
      --only "bundle head, centre patch + joint descriptor head" --out $OUT/pipeline_cost-ops-two-$i.json > /dev/null 2>&1
done
echo done
