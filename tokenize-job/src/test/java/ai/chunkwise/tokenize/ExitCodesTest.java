package ai.chunkwise.tokenize;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tokenize-job's exit codes follow the one table of all jars (README "Exit codes"): 0 done, 1 failed while
 * running, 2 bad usage or input (issue #20, item 3: a bad option value used to exit 1); and with no arguments it
 * prints its options (item 4).
 */
class ExitCodesTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TokenizeJob.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path input() throws Exception {
        Path in = tmp.resolve("in.txt");
        Files.writeString(in, "one document\nanother\n");
        return in;
    }

    @Test
    void noArgumentsPrintsTheOptionsAndExitsZero() {
        Run r = run();
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("--input") && r.out().contains("--tokenizer") && r.out().contains("--output"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void badOptionValuesAndUnknownOptionsExitTwo() throws Exception {
        Run badFormat = run("--input", input().toString(), "--format", "xml", "--output", tmp.resolve("o").toString(),
                "--tokenizer", "bytes");
        assertEquals(2, badFormat.code(), badFormat.err());
        assertTrue(badFormat.err().startsWith("tokenize-job: error: ") && badFormat.err().contains("xml"), badFormat.err());

        Run notANumber = run("--chunk-size", "many");
        assertEquals(2, notANumber.code(), notANumber.err());
        assertTrue(notANumber.err().contains("--chunk-size") && notANumber.err().contains("many"), notANumber.err());

        Run unknown = run("--chunksize", "8");
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("--chunksize") && unknown.err().contains("--chunk-size"),
                "names the option and suggests the right one: " + unknown.err());

        Run missingInput = run("--input", tmp.resolve("nowhere").toString(), "--format", "lines",
                "--output", tmp.resolve("o").toString(), "--tokenizer", "bytes");
        assertEquals(2, missingInput.code(), missingInput.err());
        assertFalse(missingInput.err().contains("\tat "), "no stack trace without --verbose: " + missingInput.err());
    }

    @Test
    void aFailureWhileRunningExitsOne() throws Exception {
        // every record invalid: found while tokenizing, not before
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{not json\n");
        Run r = run("--input", in.toString(), "--format", "jsonl", "--output", tmp.resolve("o").toString(),
                "--tokenizer", "bytes", "--verbose");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("\tat "), "--verbose prints the stack trace: " + r.err());
    }
}
