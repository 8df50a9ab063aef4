package ai.chunkwise.train.bench;

import ai.chunkwise.childjvm.ChildJvm;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** The JSON lines a benchmark's child process (a probe JVM or a PyTorch script) prints, handed on as they come. */
final class ChildJsonLines {
    private static final int TAIL_CHARS = 4000;

    private ChildJsonLines() {
    }

    /**
     * Passes every line that starts with {@code prefix + "{"} (prefix removed) to {@code record}; a child that fails
     * is reported as a {@code failed} line of {@code suite} with the tail of its other output.
     */
    static void forward(BenchCommand bench, String suite, Process p, String prefix, Consumer<ObjectNode> record)
            throws IOException, InterruptedException {
        StringBuilder other = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith(prefix + "{")) {
                    record.accept((ObjectNode) bench.json().readTree(line.substring(prefix.length())));
                } else {
                    other.append(line).append('\n');
                    if (other.length() > TAIL_CHARS) {
                        other.delete(0, other.length() - TAIL_CHARS);
                    }
                }
            }
        }
        if (!p.waitFor(bench.timeoutSeconds(), TimeUnit.SECONDS)) {
            ChildJvm.kill(p);
        }
        if (p.exitValue() != 0) {
            ObjectNode n = bench.result(suite);
            n.put("status", "failed");
            n.put("exit_code", p.exitValue());
            n.put("output_tail", other.toString());
            bench.emit(n);
        }
    }
}
