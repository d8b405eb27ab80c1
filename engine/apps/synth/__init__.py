"""`engine synth`: long-context fine-tuning data from the agent.

    engine synth generate --docs books/ -o data.jsonl     # propose questions, answer, filter
    engine synth verify qa.jsonl -o kept.jsonl            # cross-check Q/A pairs made elsewhere
    engine run flows/lv3.yaml --doc a.txt -q "..." --record data.jsonl   # a person's run, as a sample

One module per job: `corpus` (finding, loading and chunking documents), `propose` (questions from chunks),
`agent` (a flow's answer to one question, through the public run API), `filters` (agreement, grounding,
format, dedup), `samples` (the chat fine-tuning line and its metadata), `jsonl` (appending lines that are
never torn, and reading what is done), `worker` (everything for one document: what Ray ships),
`executors` (local threads or Ray), `generate` and `verify` (the commands), `record` (`engine run
--record`), `command` (the CLI).
"""
