// validate.mjs SCHEMA DOC - validate a JSON document against a JSON Schema
// (draft-07, as the MCP Registry's server.schema.json is) with Ajv; prints
// the errors and exits 1 when it does not conform.
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const [schemaPath, docPath] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
if (!validate(doc)) {
  console.log(JSON.stringify(validate.errors, null, 2));
  process.exit(1);
}
console.log("valid");
