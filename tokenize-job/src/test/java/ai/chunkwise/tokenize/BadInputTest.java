package ai.chunkwise.tokenize;

import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad records are skipped, counted by reason in manifest.json, and never stop the job or vanish silently. */
class BadInputTest {
    @TempDir
    Path tmp;

    @Test
    void jsonlBadRecordsAreCountedByReason() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        line(b, "{\"text\": \"good one\"}");
        line(b, "{\"text\": \"good two\", \"other\": 5}");
        line(b, "{\"text\": \"truncated");                  // invalid_json
        line(b, "[\"an\", \"array\"]");                     // invalid_json: not an object
        line(b, "{\"text\": \"a\"} trailing garbage");        // invalid_json
        line(b, "{\"title\": \"no text field\"}");          // missing_field
        line(b, "{\"text\": null}");                        // missing_field
        line(b, "{\"text\": 42}");                          // non_string_field
        line(b, "{\"text\": [\"a\", \"b\"]}");              // non_string_field
        line(b, "{\"text\": \"   \\n\\t \"}");              // empty_text
        line(b, "");                                        // empty_text (blank line)
        b.write(new byte[]{'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'}); // invalid_utf8
        line(b, "{\"text\": \"good three\"}");
        Path in = tmp.resolve("in.jsonl");
        Files.write(in, b.toByteArray());

        TokenizeResult r = TestJobs.run(TestJobs.bytesJob(in, "jsonl", tmp.resolve("out")));

        assertEquals(13, r.manifest().counts().documentsRead());
        assertEquals(Map.of("invalid_json", 3L, "missing_field", 2L, "non_string_field", 2L, "empty_text", 2L,
                "invalid_utf8", 1L), r.manifest().counts().documentsSkipped());
        assertEquals(TestJobs.counts(List.of("good one", "good two", "good three")),
                TestJobs.counts(TestJobs.bytesToTexts(TestJobs.documents(tmp.resolve("out"), TestJobs.BYTES_EOS))));
        assertEquals(3, r.documentsPacked());
    }

    @Test
    void linesAndTextSkipInvalidUtf8AndEmptyDocuments() throws IOException {
        Path lines = tmp.resolve("lines.txt");
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        line(b, "valid line");
        line(b, "");
        line(b, "    ");
        b.write(new byte[]{'o', 'v', 'e', 'r', 'l', 'o', 'n', 'g', ' ', (byte) 0xC0, (byte) 0xAF, '\n'}); // overlong '/'
        b.write(new byte[]{'l', 'o', 'n', 'e', ' ', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '\n'});       // lone surrogate
        line(b, "another valid line");
        Files.write(lines, b.toByteArray());

        TokenizeResult r = TestJobs.run(TestJobs.bytesJob(lines, "lines", tmp.resolve("out-lines")));
        assertEquals(6, r.manifest().counts().documentsRead());
        assertEquals(Map.of("empty_text", 2L, "invalid_utf8", 2L), r.manifest().counts().documentsSkipped());
        assertEquals(TestJobs.counts(List.of("valid line", "another valid line")),
                TestJobs.counts(TestJobs.bytesToTexts(TestJobs.documents(tmp.resolve("out-lines"), TestJobs.BYTES_EOS))));

        Path texts = Files.createDirectories(tmp.resolve("texts"));
        Files.writeString(texts.resolve("good.txt"), "a good file");
        Files.writeString(texts.resolve("empty.txt"), "");
        Files.write(texts.resolve("latin1.txt"), "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
        TokenizeResult t = TestJobs.run(TestJobs.bytesJob(texts, "text", tmp.resolve("out-text")));
        assertEquals(3, t.manifest().counts().documentsRead());
        assertEquals(Map.of("empty_text", 1L, "invalid_utf8", 1L), t.manifest().counts().documentsSkipped());
    }

    @Test
    void parquetNullValuesAreCountedAsMissing() {
        SparkSession spark = SharedSpark.session();
        StructType schema = new StructType().add("text", DataTypes.StringType);
        List<org.apache.spark.sql.Row> rows = new ArrayList<>(Arrays.asList(
                RowFactory.create("kept"), RowFactory.create((Object) null), RowFactory.create(""),
                RowFactory.create("also kept")));
        Path in = tmp.resolve("table");
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(in.toString());

        TokenizeResult r = TestJobs.run(TestJobs.bytesJob(in, "parquet", tmp.resolve("out")));

        assertEquals(4, r.manifest().counts().documentsRead());
        assertEquals(Map.of("missing_field", 1L, "empty_text", 1L), r.manifest().counts().documentsSkipped());
    }

    @Test
    void aTruncatedGzipFileFailsTheJobNamingTheFileAndLeavesNoDataset() throws IOException {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Path good = in.resolve("good.txt.gz");
        InputFormatsTest.gzip(good, "line one\nline two\n".repeat(200));
        byte[] whole = Files.readAllBytes(good);
        Files.write(in.resolve("truncated.txt.gz"), Arrays.copyOf(whole, whole.length / 2));
        Path out = tmp.resolve("out");

        StringWriter err = new StringWriter();
        int code = TokenizeJob.commandLine().setErr(new PrintWriter(err)).execute("--input", in.toString(),
                "--format", "lines", "--output", out.toString(), "--tokenizer", "bytes");

        assertEquals(1, code);
        assertTrue(err.toString().contains("truncated.txt.gz") && err.toString().contains("truncated or corrupt"), err.toString());
        assertFalse(Files.exists(out.resolve("manifest.json")), "a failed run leaves no manifest");
    }

    private static void line(ByteArrayOutputStream b, String s) throws IOException {
        b.write(bytes(s + "\n"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
