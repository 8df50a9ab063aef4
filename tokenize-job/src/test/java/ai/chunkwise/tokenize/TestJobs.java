package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Running the job in tests, and reading a dataset back into documents independently of the job. */
final class TestJobs {
    /** The byte tokenizer's EOS (ids 0..255 are the UTF-8 bytes, 256 BOS, 257 EOS, 258 PAD). */
    static final int BYTES_EOS = 257;

    private TestJobs() {
    }

    /** Small rows so that documents span rows and shards have several batches. */
    static Map<String, Object> bytesJob(Path input, String format, Path output) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("input", input.toString());
        o.put("format", format);
        o.put("output", output.toString());
        o.put("tokenizer", "bytes");
        o.put("chunk-size", 8);
        o.put("chunks-per-seq", 4);
        o.put("rows-per-batch", 3);
        return o;
    }

    static TokenizeResult run(Map<String, Object> overrides) {
        SparkSession spark = SharedSpark.session();
        TokenizeSettings settings = TokenizeSettings.load(overrides, null);
        TokenizePlan plan = TokenizePlan.prepare(settings, spark.sparkContext().hadoopConfiguration());
        return TokenizeRunner.run(spark, plan);
    }

    /**
     * The documents of a concat or chunk-aligned dataset, in dataset order: each segment is a document unless
     * it continues the previous row's last one. Read with pipeline's DatasetReader (checksums verified).
     * Trailing EOS ({@code eos >= 0}) is stripped.
     */
    static List<int[]> documents(Path dataset, int eos) {
        List<int[]> docs = new ArrayList<>();
        try (DatasetReader reader = DatasetReader.open(dataset)) {
            Iterator<PackedSequence> rows = reader.sequences();
            while (rows.hasNext()) {
                PackedSequence row = rows.next();
                for (int s = 0; s < row.docStarts().length; s++) {
                    int[] seg = Arrays.copyOfRange(row.inputIds(), row.docStarts()[s], row.docStarts()[s] + row.docLengths()[s]);
                    if (s == 0 && row.continuesPrevious()) {
                        int[] prev = docs.remove(docs.size() - 1);
                        int[] joined = Arrays.copyOf(prev, prev.length + seg.length);
                        System.arraycopy(seg, 0, joined, prev.length, seg.length);
                        seg = joined;
                    }
                    docs.add(seg);
                }
            }
        }
        if (eos >= 0) {
            for (int i = 0; i < docs.size(); i++) {
                int[] d = docs.get(i);
                if (d.length == 0 || d[d.length - 1] != eos) {
                    throw new AssertionError("document " + i + " does not end with EOS " + eos + ": " + Arrays.toString(d));
                }
                docs.set(i, Arrays.copyOf(d, d.length - 1));
            }
        }
        return docs;
    }

    /** Byte-tokenizer documents back to text (ids are the UTF-8 bytes). */
    static List<String> bytesToTexts(List<int[]> docs) {
        List<String> texts = new ArrayList<>();
        for (int[] d : docs) {
            byte[] b = new byte[d.length];
            for (int i = 0; i < d.length; i++) {
                if (d[i] < 0 || d[i] > 255) {
                    throw new AssertionError("non-byte token " + d[i]);
                }
                b[i] = (byte) d[i];
            }
            texts.add(new String(b, StandardCharsets.UTF_8));
        }
        return texts;
    }

    /** Multiset of strings (order-free comparison: the job orders documents by a seeded hash). */
    static Map<String, Integer> counts(List<String> items) {
        Map<String, Integer> m = new HashMap<>();
        items.forEach(s -> m.merge(s, 1, Integer::sum));
        return m;
    }

    /** File name -> bytes of every file in a dataset directory. */
    /** Every regular file below dir by relative path ("v0001/shard-00000.arrow"), with its bytes. */
    static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> m = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                m.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        }
        return m;
    }
}
