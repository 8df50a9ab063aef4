package ai.chunkwise.train.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/**
 * One run of train-job's command line in this JVM, as a user sees it: the exit code, the command's own output
 * ({@code eval}'s and {@code grad}'s JSON, picocli's help), what the trainer printed to {@code System.out} (train's
 * console lines) and standard error. The tests of every package run the commands through this one helper.
 */
public record CommandRun(int code, String out, String console, String err) {

    /** Runs {@code args} (the command first, e.g. "train") with {@code System.out} captured meanwhile. */
    public static CommandRun of(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        try {
            var cli = TrainCli.commandLine();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            int code = cli.execute(args);
            return new CommandRun(code, out.toString(), console.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(saved);
        }
    }

    /** The last line train printed: its report line or, with --json, the report itself. */
    public String lastConsoleLine() {
        String[] lines = console.strip().split("\n");
        return lines[lines.length - 1];
    }
}
