package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.DatasetReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --eval-fraction: a held-out dataset of its own, chosen by document hash, no document in both. */
class HeldOutSplitTest {
    private static final int DOCUMENTS = 120;
    private static final long SEED = 11;
    private static final double FRACTION = 0.25;

    @TempDir
    Path tmp;

    @Test
    void heldOutDocumentsFormTheirOwnDatasetAndNoDocumentIsInBoth() throws IOException {
        Path in = writeCorpus();
        Map<String, Object> job = TestJobs.bytesJob(in, "text", tmp.resolve("data"));
        job.put("seed", SEED);
        job.put("shards", 2);
        job.put("partitions", 2);
        job.put("eval-fraction", FRACTION);
        TokenizeResult result = TestJobs.run(job);

        Path evalDir = tmp.resolve("data-eval");   // the documented default: <output>-eval
        assertTrue(result.heldOut().outputDir().endsWith("/data-eval"), result.heldOut().outputDir());
        Set<String> train = new HashSet<>(texts(tmp.resolve("data")));
        List<String> evalList = texts(evalDir);
        Set<String> eval = new HashSet<>(evalList);
        assertEquals(evalList.size(), eval.size(), "each held-out document once");

        // the documented rule, recomputed here: SHA-256(seed, record index 0, file name), third 64-bit word
        Set<String> expectedEval = new HashSet<>();
        Set<String> all = new HashSet<>();
        for (int i = 0; i < DOCUMENTS; i++) {
            String text = text(i);
            all.add(text);
            if (heldOut(SEED, fileName(i), 0, FRACTION)) {
                expectedEval.add(text);
            }
        }
        assertEquals(expectedEval, eval, "held-out documents = those the documented hash rule selects");
        Set<String> both = new HashSet<>(train);
        both.retainAll(eval);
        assertTrue(both.isEmpty(), "documents in both splits: " + both);
        Set<String> union = new HashSet<>(train);
        union.addAll(eval);
        assertEquals(all, union, "every document is in one of the two datasets");
        assertTrue(eval.size() > DOCUMENTS * FRACTION / 2 && eval.size() < DOCUMENTS * FRACTION * 2,
                "held-out share far from " + FRACTION + ": " + eval.size() + " of " + DOCUMENTS);

        try (DatasetReader r = DatasetReader.open(evalDir)) {
            assertEquals("eval", r.manifest().config().get("split"));
            assertEquals(eval.size(), r.manifest().counts().documentsRead());
        }
        try (DatasetReader r = DatasetReader.open(tmp.resolve("data"))) {
            assertEquals("train", r.manifest().config().get("split"));
            assertEquals(DOCUMENTS - eval.size(), r.manifest().counts().documentsRead());
        }
    }

    @Test
    void trainingDocumentsKeepTheirShardsAndOrderWhateverThePartitioning() throws IOException {
        Path in = writeCorpus();
        Map<String, Object> plain = TestJobs.bytesJob(in, "text", tmp.resolve("plain"));
        plain.put("seed", SEED);
        plain.put("shards", 2);
        plain.put("partitions", 1);
        TestJobs.run(plain);
        // split with another partitioning than the plain run: neither the split nor the order may depend on it
        Map<String, Object> job = TestJobs.bytesJob(in, "text", tmp.resolve("split"));
        job.put("seed", SEED);
        job.put("shards", 2);
        job.put("partitions", 3);
        job.put("eval-fraction", FRACTION);
        job.put("eval-output", tmp.resolve("held").toString());
        TestJobs.run(job);

        Set<String> eval = new HashSet<>(texts(tmp.resolve("held")));
        List<String> expected = new ArrayList<>(texts(tmp.resolve("plain")));
        expected.removeIf(eval::contains);
        assertEquals(expected, texts(tmp.resolve("split")), "training documents in the same shards and order");
    }

    @Test
    void aFractionOutsideZeroToOneIsAnErrorNamingTheKey() {
        Map<String, Object> job = TestJobs.bytesJob(tmp, "text", tmp.resolve("x"));
        job.put("eval-fraction", 1.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TestJobs.run(job));
        assertTrue(e.getMessage().contains("tokenize.eval-fraction (--eval-fraction)"), e.getMessage());
    }

    private Path writeCorpus() throws IOException {
        Path in = Files.createDirectories(tmp.resolve("in"));
        for (int i = 0; i < DOCUMENTS; i++) {
            Files.writeString(in.resolve(fileName(i)), text(i));
        }
        return in;
    }

    private static String fileName(int i) {
        return String.format("doc-%03d.txt", i);
    }

    private static String text(int i) {
        return "document " + i + " " + "abcdefghij".repeat(1 + i % 7);
    }

    private static List<String> texts(Path dataset) {
        return TestJobs.bytesToTexts(TestJobs.documents(dataset, TestJobs.BYTES_EOS));
    }

    private static boolean heldOut(long seed, String file, long index, double fraction) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(ByteBuffer.allocate(16).putLong(seed).putLong(index).array());
            d.update(file.getBytes(StandardCharsets.UTF_8));
            long word = ByteBuffer.wrap(d.digest(), 16, 8).getLong();
            return (word >>> 11) / (double) (1L << 53) < fraction;
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
