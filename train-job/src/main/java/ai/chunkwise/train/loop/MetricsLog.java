package ai.chunkwise.train.loop;

import ai.chunkwise.train.checkpoint.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object per optimizer step, appended and flushed as each step ends, so a crash
 * loses nothing already logged. A resumed run first drops the lines of steps after its checkpoint (they are
 * about to be recomputed), so the file always describes one consistent run. Nothing is kept in memory: the
 * entries are read back from the file when the report needs them, so a long run's heap does not grow with them.
 */
public final class MetricsLog implements AutoCloseable {
    public static final String FILE_NAME = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    /** Opens the log, keeping earlier entries whose step is at most {@code keepUpToStep} (0 = start afresh). */
    public MetricsLog(Path output, long keepUpToStep) {
        this.file = output.resolve(FILE_NAME);
        try {
            Files.createDirectories(output);
            if (Files.exists(file)) {
                StringBuilder kept = new StringBuilder();
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode n = parse(line);
                    // a line cut short by a crash (null) is dropped: its step is recomputed anyway
                    if (n != null && n.path("step").asLong() <= keepUpToStep) {
                        kept.append(line).append('\n');
                    }
                }
                AtomicFiles.writeString(file, kept.toString());
            }
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open metrics log " + file + ": " + e.getMessage(), e);
        }
    }

    public void append(ObjectNode entry) {
        try {
            out.write(entry.toString());
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics log " + file + ": " + e.getMessage(), e);
        }
    }

    /** Makes everything appended so far visible in the file (each append already flushes; kept for clarity). */
    public void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics log " + file + ": " + e.getMessage(), e);
        }
    }

    /** Every entry of the run, earlier (kept) ones included, in step order: read back from the file. */
    public List<JsonNode> entries() {
        flush();
        List<JsonNode> entries = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                JsonNode n = line.isBlank() ? null : parse(line);
                if (n != null) {
                    entries.add(n);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read metrics log " + file + ": " + e.getMessage(), e);
        }
        return entries;
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            return null;
        }
    }

    public static ObjectNode newEntry() {
        return JSON.createObjectNode();
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close metrics log " + file + ": " + e.getMessage(), e);
        }
    }
}
