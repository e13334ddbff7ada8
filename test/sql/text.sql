-- The normalizer and the intent lexicon.
\i test/include/prelude.sql
SELECT prompt_template('Hello   WORLD,  visit https://example.com/a?b=1. now');
SELECT prompt_template('Mail bob.smith@example.org or ops@x.io.');
SELECT prompt_template('id 550e8400-e29b-41d4-a716-446655440000 and 0xDEADbeef and a1b2c3d4e5');
SELECT prompt_template('Pay 1,000.50 USD in 3 days (or 12 hours)');
-- a separator inside what starts as a number stays in the word it joins
SELECT prompt_template('v 1,5a and 2.0beta and 3.14');
SELECT prompt_template('Ünïcode ПРИВЕТ ΑΒΓ café');
SELECT prompt_template('请一步一步思考，写出推理过程。');
SELECT prompt_template('日本語のテキストと English mixed');
SELECT prompt_template('a ' || repeat('x', 60) || ' b');
SELECT prompt_template('');
SELECT prompt_template(E'tabs\tand\nnewlines  collapse');
-- invalid UTF-8 cannot reach a text value in a UTF8 database; bytes are safe anyway
SELECT prompt_template(E'broken \\xff byte');

-- paraphrase-robust: the same scaffold with other fill-ins keeps its template
SELECT prompt_template('Grade the response on a scale of 1 to 10: answer 42') =
       prompt_template('grade the response on a scale of 3 to 7: answer 17') AS same_template;

SELECT prompt_intents('Think step by step and show your reasoning.');
SELECT prompt_intents('Grade the response below on a scale of 1 to 10 using the rubric.');
SELECT prompt_intents('{"type": "function", "parameters": {"q": "string"}} respond with tool_calls');
SELECT prompt_intents(E'```python\ndef f(x):\n    return x\n```');
SELECT prompt_intents('Rewrite this question into a safer version.');
SELECT prompt_intents('Look at this image and click the OK button.');
SELECT prompt_intents('请一步一步思考，并给出评分。');
SELECT prompt_intents('实现一个函数，并改写代码');
SELECT prompt_intents('What is the capital of France?');
SELECT prompt_intents('');

-- the lexicon, grouped
SELECT intent, count(*) FROM lockstep_lexicon() GROUP BY intent ORDER BY intent;
-- every lexicon phrase is found by prompt_intents under its own intent
SELECT intent, phrase FROM lockstep_lexicon() WHERE NOT (intent = ANY (prompt_intents(phrase)));

-- scaffold keys: none for short prompts, two bins for longer ones,
-- and the same keys for the same scaffold with numbers changed
SELECT prompt_scaffold_keys('continue');
SELECT cardinality(prompt_scaffold_keys('You are an expert tutor, think step by step and answer'));
SELECT prompt_scaffold_keys('Rate the response on a scale of 1 to 10 please now') =
       prompt_scaffold_keys('rate the response on a scale of 2 to 5 please now') AS same_keys;
