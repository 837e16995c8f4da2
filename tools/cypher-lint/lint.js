// Checks Cypher files with Neo4j's parser and semantic analysis (@neo4j-cypher/language-support),
// as Cypher 5: syntax errors, undefined variables, scoping, and deprecations (warnings count too).
// Usage: node lint.js FILE.cypher...   Prints one line per problem, FILE:LINE: message; exit 1 if any.
// `{{label}}` / `{{type}}` slots are filled with a vocabulary name first, a type set's
// (`{{walked_types}}`) with two; `$parameters` are not
// checked here (cofi/queries.py checks them against the code).
'use strict';
const fs = require('fs');
const { lintCypherQuery } = require('@neo4j-cypher/language-support');

const PREFIX = 'CYPHER 5 ';
let problems = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8')
    .replace(/\{\{label\}\}/g, 'Person')
    .replace(/\{\{type\}\}/g, 'OWNS')
    .replace(/\{\{\w+_types\}\}/g, 'OWNS|HAS_PHONE')
    .replace(/\{\{max_hops\}\}/g, '4');
  // A schema file holds several statements, each ending with ';' at a line end.
  const statements = [];
  let start = 0;
  for (const match of text.matchAll(/;[ \t]*$/gm)) {
    statements.push([start, text.slice(start, match.index)]);
    start = match.index + match[0].length;
  }
  statements.push([start, text.slice(start)]);
  for (const [offset, statement] of statements) {
    if (!statement.replace(/\/\/.*$/gm, '').trim()) continue;
    const { diagnostics } = lintCypherQuery(PREFIX + statement, {});
    for (const d of diagnostics) {
      if (d.severity > 2 || /^Parameter \$\w+ is not defined/.test(d.message)) continue;
      const at = offset + Math.max(0, d.offsets.start - PREFIX.length);
      const line = text.slice(0, at).split('\n').length;
      console.log(`${file}:${line}: ${d.message.split('\n')[0]}`);
      problems += 1;
    }
  }
}
process.exit(problems ? 1 : 0);
