package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.packing.PackedSequence;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every input format end to end with the byte tokenizer, whose tokens are the UTF-8 bytes: the documents read
 * back from the dataset must be exactly the input documents (as a multiset; the job orders them by hash).
 */
class InputFormatsTest {
    @TempDir
    Path tmp;

    @Test
    void textFormatReadsOneDocumentPerFileAndDecompressesGzip() throws IOException {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.writeString(in.resolve("a.txt"), "Hello world.\nA second line of the same document.\n");
        Files.writeString(in.resolve("b.md"), "# Title\n\nGrüße aus Köln — ünïcödé ✓");
        gzip(in.resolve("c.txt.gz"), "compressed document, long enough to span several rows of 32 tokens");
        Files.writeString(in.resolve(".hidden"), "hidden files are not input");

        TokenizeResult r = TestJobs.run(TestJobs.bytesJob(in, "text", tmp.resolve("out")));

        assertDocuments(List.of("Hello world.\nA second line of the same document.\n",
                "# Title\n\nGrüße aus Köln — ünïcödé ✓",
                "compressed document, long enough to span several rows of 32 tokens"), r);
    }

    @Test
    void linesFormatReadsPlainAndGzipFilesThroughAGlob() throws IOException {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.writeString(in.resolve("part-1.txt"), "first line\nsecond line, somewhat longer than one row of 32 bytes\r\nthird\n");
        gzip(in.resolve("part-2.txt.gz"), "gz line one\ngz line two: ünïcödé\n");
        Files.writeString(in.resolve("other.csv"), "not matched by the glob\n");

        TokenizeResult r = TestJobs.run(TestJobs.bytesJob(in.resolve("part-*"), "lines", tmp.resolve("out")));

        assertDocuments(List.of("first line", "second line, somewhat longer than one row of 32 bytes", "third",
                "gz line one", "gz line two: ünïcödé"), r);
    }

    @Test
    void jsonlFormatTakesTheConfiguredField() throws IOException {
        Path in = tmp.resolve("docs.jsonl");
        Files.writeString(in, """
                {"id": 1, "content": "the first document", "text": "not this field"}
                {"content": "second \\"quoted\\" document with an escaped\\nnewline", "id": 2}
                {"id": 3, "content": "third", "extra": {"nested": [1, 2, 3]}}
                """);
        Map<String, Object> job = TestJobs.bytesJob(in, "jsonl", tmp.resolve("out"));
        job.put("text-field", "content");

        TokenizeResult r = TestJobs.run(job);

        assertDocuments(List.of("the first document", "second \"quoted\" document with an escaped\nnewline", "third"), r);
    }

    @Test
    void parquetFormatTakesTheConfiguredColumn() {
        SparkSession spark = SharedSpark.session();
        StructType schema = new StructType().add("id", DataTypes.LongType).add("body", DataTypes.StringType);
        List<String> bodies = new ArrayList<>();
        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String body = "parquet row " + i + (i % 3 == 0 ? " ünïcödé and a longer tail to span rows" : "");
            bodies.add(body);
            rows.add(RowFactory.create((long) i, body));
        }
        Path in = tmp.resolve("table");
        spark.createDataFrame(rows, schema).repartition(3).write().parquet(in.toString());
        Map<String, Object> job = TestJobs.bytesJob(in, "parquet", tmp.resolve("out"));
        job.put("text-field", "body");

        TokenizeResult r = TestJobs.run(job);

        assertDocuments(bodies, r);
    }

    @Test
    void chunkAlignedStartsEveryDocumentOnAChunkBoundary() throws IOException {
        Path in = tmp.resolve("lines.txt");
        List<String> lines = List.of("a", "bb bb bb bb", "a document longer than one whole row of thirty-two bytes", "ccc");
        Files.write(in, lines);
        Map<String, Object> job = TestJobs.bytesJob(in, "lines", tmp.resolve("out"));
        job.put("packing", "chunk-aligned");

        TokenizeResult r = TestJobs.run(job);

        assertDocuments(lines, r);
        try (DatasetReader reader = DatasetReader.open(tmp.resolve("out"))) {
            for (Iterator<PackedSequence> it = reader.sequences(); it.hasNext(); ) {
                PackedSequence row = it.next();
                for (int s = 0; s < row.docStarts().length; s++) {
                    assertEquals(0, row.docStarts()[s] % 8, "segment start in row " + row.seqId());
                }
            }
        }
    }

    @Test
    void bfdPacksShortDocumentsWholeIntoRows() throws IOException {
        Path in = tmp.resolve("lines.txt");
        List<String> lines = List.of("one", "two two", "three three three", "four", "five five five five five",
                "six", "seven seven");
        Files.write(in, lines);
        Map<String, Object> job = TestJobs.bytesJob(in, "lines", tmp.resolve("out"));
        job.put("packing", "bfd");

        TokenizeResult r = TestJobs.run(job);

        // every document fits a 32-token row, so bfd keeps each whole: every segment is one document
        assertDocuments(lines, r);
        int totalBytes = lines.stream().mapToInt(l -> l.length() + 1).sum(); // + EOS
        assertEquals(totalBytes, r.manifest().counts().tokens());
        assertTrue(r.manifest().counts().sequences() >= (totalBytes + 31) / 32);
    }

    private void assertDocuments(List<String> expected, TokenizeResult r) {
        Path out = tmp.resolve("out");
        List<String> actual = TestJobs.bytesToTexts(TestJobs.documents(out, TestJobs.BYTES_EOS));
        assertEquals(TestJobs.counts(expected), TestJobs.counts(actual));
        assertEquals(expected.size(), r.manifest().counts().documentsRead());
        assertEquals(Map.of(), r.manifest().counts().documentsSkipped());
        long expectedTokens = expected.stream().mapToLong(s -> s.getBytes(StandardCharsets.UTF_8).length + 1).sum();
        assertEquals(expectedTokens, r.manifest().counts().tokens());
        assertTrue(Files.isRegularFile(out.resolve("manifest.json")));
    }

    static void gzip(Path file, String text) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(file))) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }
}
