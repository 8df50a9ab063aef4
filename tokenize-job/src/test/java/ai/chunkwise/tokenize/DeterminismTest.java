package ai.chunkwise.tokenize;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Same input, config and seed give byte-identical shards whatever the number of partitions. */
class DeterminismTest {
    @TempDir
    Path tmp;

    @Test
    void shardsAreByteIdenticalForOneTwoAndThreePartitions() throws IOException {
        Path in = writeCorpus();
        List<Map<String, byte[]>> outputs = new ArrayList<>();
        for (int partitions : new int[]{1, 2, 3}) {
            Path out = tmp.resolve("out-" + partitions);
            Map<String, Object> job = TestJobs.bytesJob(in, "lines", out);
            job.put("partitions", partitions);
            job.put("shards", 3);
            job.put("seed", 7L);
            TestJobs.run(job);
            Map<String, byte[]> files = TestJobs.files(out);
            assertEquals(List.of("_SUCCESS", "manifest.json", "v0001/shard-00000.arrow", "v0001/shard-00001.arrow",
                    "v0001/shard-00002.arrow", "versions/v0001.json"), List.copyOf(files.keySet()));
            outputs.add(files);
        }
        for (String shard : List.of("v0001/shard-00000.arrow", "v0001/shard-00001.arrow", "v0001/shard-00002.arrow")) {
            assertArrayEquals(outputs.get(0).get(shard), outputs.get(1).get(shard), shard + ": 1 vs 2 partitions");
            assertArrayEquals(outputs.get(0).get(shard), outputs.get(2).get(shard), shard + ": 1 vs 3 partitions");
        }
    }

    @Test
    void movingTheInputTreeDoesNotChangeTheShards() throws IOException {
        Path in = writeCorpus();
        Path moved = Files.createDirectories(tmp.resolve("elsewhere/deeper/in"));
        for (String f : List.of("a.txt", "b.txt", "c.txt")) {
            Files.copy(in.resolve(f), moved.resolve(f));
        }
        TestJobs.run(TestJobs.bytesJob(in, "lines", tmp.resolve("out-a")));
        TestJobs.run(TestJobs.bytesJob(moved, "lines", tmp.resolve("out-b")));
        byte[] a = TestJobs.files(tmp.resolve("out-a")).get("v0001/shard-00000.arrow");
        assertTrue(a != null && a.length > 0);
        assertArrayEquals(a, TestJobs.files(tmp.resolve("out-b")).get("v0001/shard-00000.arrow"));
    }

    @Test
    void theSeedChangesTheOrderButNotTheDocuments() throws IOException {
        Path in = writeCorpus();
        Map<String, Object> a = TestJobs.bytesJob(in, "lines", tmp.resolve("seed-1"));
        a.put("seed", 1L);
        Map<String, Object> b = TestJobs.bytesJob(in, "lines", tmp.resolve("seed-2"));
        b.put("seed", 2L);
        TestJobs.run(a);
        TestJobs.run(b);

        List<String> docsA = TestJobs.bytesToTexts(TestJobs.documents(tmp.resolve("seed-1"), TestJobs.BYTES_EOS));
        List<String> docsB = TestJobs.bytesToTexts(TestJobs.documents(tmp.resolve("seed-2"), TestJobs.BYTES_EOS));
        assertEquals(TestJobs.counts(docsA), TestJobs.counts(docsB));
        assertNotEquals(docsA, docsB, "different seeds must give different document orders");
        // and the order mixes the input files rather than keeping file order
        List<String> inputOrder = new ArrayList<>();
        for (String f : List.of("a.txt", "b.txt", "c.txt")) {
            inputOrder.addAll(Files.readAllLines(in.resolve(f)));
        }
        assertFalse(docsA.equals(inputOrder));
    }

    @Test
    void shardsWithoutDocumentsAreValidEmptyShards() throws IOException {
        Path in = Files.write(tmp.resolve("two.txt"), List.of("only two", "documents here"));
        Path out = tmp.resolve("out");
        Map<String, Object> job = TestJobs.bytesJob(in, "lines", out);
        job.put("shards", 5);

        TokenizeResult r = TestJobs.run(job);

        assertEquals(5, r.manifest().shards().size());
        assertTrue(r.manifest().shards().stream().anyMatch(s -> s.rows() == 0), "5 shards for 2 documents");
        assertEquals(TestJobs.counts(List.of("only two", "documents here")),
                TestJobs.counts(TestJobs.bytesToTexts(TestJobs.documents(out, TestJobs.BYTES_EOS))));
    }

    private Path writeCorpus() throws IOException {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Random random = new Random(42);
        for (String f : List.of("a.txt", "b.txt", "c.txt")) {
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 150; i++) {
                StringBuilder s = new StringBuilder(f + " line " + i + ":");
                int words = 1 + random.nextInt(20);
                for (int w = 0; w < words; w++) {
                    s.append(' ').append(Integer.toString(random.nextInt(1 << 20), 36));
                }
                lines.add(s.toString());
            }
            Files.write(in.resolve(f), lines);
        }
        return in;
    }
}
