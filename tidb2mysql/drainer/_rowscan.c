/*
 * tidb2mysql.drainer._rowscan: which row changes of one table of a Drainer message this
 * process applies, read straight from the message bytes (owned_rows), and a whole message none
 * of whose rows it applies answered without a protobuf parse (skim, further down).
 *
 * Why it exists: every process of a scaled-out flow reads the whole Drainer partition and
 * applies only its own shards. Telling its rows from the others' took ~1.7 us per row in
 * Python (a dozen protobuf attribute reads, a converter and a hash per row: the second
 * process's main cost, docs/performance.md). This walks the protobuf wire format once, in C,
 * for the one case that is most of real traffic: a table whose primary key is one integer
 * column. It decides nothing on its own: anything it is not sure about (a wire form protobuf
 * would merge or reinterpret, a row whose column count is wrong, a key value in the wrong
 * field) makes it return None, and the caller then takes the Python path, which gives the
 * exact answer or the exact error. That path (decode.py Decoder._rows with the router's
 * RowInterest.owns_one, route.py) is the specification, and is used whole when this module is
 * not built; tests/unit/test_rowscan.py compares the two on random, odd and damaged messages.
 *
 * owned_rows(value, table_index, key_col, ncols, seed, owned, run_bits, placeholders)
 *   value        the serialized Binlog (already parsed once by protobuf without error)
 *   table_index  which entry of dml_data.tables
 *   key_col      position of the primary-key column in each row
 *   ncols        the table's column count (every row image must have exactly this many)
 *   seed         crc32 of the table prefix (route._table_seed)
 *   owned        bytes, one per shard: nonzero if this process owns the shard
 *   run_bits     >= 0: key-runs rule (value >> run_bits is hashed); -1: hash rule
 *   placeholders (insert, update, delete) objects put in place of rows not owned
 *   convert      optional: the table's conversion plan (see "conversion" below)
 * -> None, or (rows, owned_indexes): rows has one entry per mutation, the placeholder for a
 *    row not owned and, for an owned one, its RowChange (with convert) or None (without: the
 *    caller converts it); owned_indexes lists the owned positions.
 *
 * all_rows(value, table_index, ncols, convert): every row of the table converted (a reader that
 * applies all of them) -> [RowChange per mutation], or None.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <stdint.h>
#include <string.h>

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

/* zlib.crc32(data, seed) */
static uint32_t crc32_continue(uint32_t seed, const char *p, size_t n) {
    uint32_t c = ~seed;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ (uint8_t)p[i]) & 0xFF] ^ (c >> 8);
    return ~c;
}

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} Buf;

/* 0 on success */
static int read_varint(Buf *b, uint64_t *out) {
    uint64_t r = 0;
    int shift = 0;
    while (b->p < b->end) {
        uint8_t byte = *b->p++;
        if (shift == 63 && (byte & 0x7E))
            return -1; /* more than 64 bits: let protobuf decide */
        r |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *out = r;
            return 0;
        }
        shift += 7;
        if (shift > 63)
            return -1;
    }
    return -1;
}

/* Skip one field's value of wire type wt; -1 for groups or anything unknown. */
static int skip_field(Buf *b, int wt) {
    uint64_t v;
    switch (wt) {
    case 0:
        return read_varint(b, &v);
    case 1:
        if (b->end - b->p < 8) return -1;
        b->p += 8;
        return 0;
    case 2:
        if (read_varint(b, &v) || v > (uint64_t)(b->end - b->p)) return -1;
        b->p += v;
        return 0;
    case 5:
        if (b->end - b->p < 4) return -1;
        b->p += 4;
        return 0;
    default:
        return -1;
    }
}

/* Read a length-delimited value into sub; -1 if the field is not length-delimited. */
static int read_sub(Buf *b, int wt, Buf *sub) {
    uint64_t n;
    if (wt != 2 || read_varint(b, &n) || n > (uint64_t)(b->end - b->p)) return -1;
    sub->p = b->p;
    sub->end = b->p + n;
    b->p += n;
    return 0;
}

static int read_tag(Buf *b, uint32_t *field, int *wt) {
    uint64_t tag;
    if (read_varint(b, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1FFFFFFF) return -1;
    *field = (uint32_t)(tag >> 3);
    *wt = (int)(tag & 7);
    return 0;
}

/* The key of one row image: kind 0 = NULL, 1 = signed, 2 = unsigned. */
typedef struct {
    int kind;
    int64_t s;
    uint64_t u;
} Key;

/* Column -> Key, as `None if c.is_null else values._dec_int(c)`; -1: let Python decide. */
static int column_key(Buf col, Key *k) {
    int is_null = 0, has_i = 0, has_u = 0;
    uint64_t iv = 0, uv = 0, v;
    uint32_t f;
    int wt;
    while (col.p < col.end) {
        if (read_tag(&col, &f, &wt)) return -1;
        if (f >= 1 && f <= 3) {
            if (wt != 0 || read_varint(&col, &v)) return -1;
            if (f == 1) is_null = v != 0;
            else if (f == 2) { has_i = 1; iv = v; }
            else { has_u = 1; uv = v; }
        } else if (skip_field(&col, wt)) {
            return -1;
        }
    }
    if (is_null) { k->kind = 0; return 0; }
    if (has_i && iv) { k->kind = 1; k->s = (int64_t)iv; return 0; }
    if (has_u && uv) { k->kind = 2; k->u = uv; return 0; }
    if (has_i || has_u) { k->kind = 1; k->s = 0; return 0; }
    return -1; /* no integer field: Python raises the exact error */
}

/* Row -> the key column's Key; -1 if the row does not have exactly ncols columns. */
static int row_key(Buf row, Py_ssize_t key_col, Py_ssize_t ncols, Key *k) {
    Py_ssize_t i = 0;
    uint32_t f;
    int wt;
    int found = 0;
    while (row.p < row.end) {
        if (read_tag(&row, &f, &wt)) return -1;
        if (f == 1) {
            Buf col;
            if (read_sub(&row, wt, &col)) return -1;
            if (i == key_col) {
                if (column_key(col, k)) return -1;
                found = 1;
            }
            i++;
        } else if (skip_field(&row, wt)) {
            return -1;
        }
    }
    return (i == ncols && found) ? 0 : -1;
}

typedef struct {
    uint32_t seed;
    const char *owned;
    Py_ssize_t shards;
    int run_bits;
    /* the last key (or run) hashed and its answer: consecutive rows mostly share a run */
    int last_kind;
    uint64_t last_value;
    int last_answer;
} Rule;

/* Decimal digits of v into the end of buf; returns where they start. */
static char *digits(uint64_t v, char *end) {
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* Does this process own the shard of key k?  crc32(seed, repr(key or its run)) % shards. */
static int owns(Rule *r, const Key *k) {
    char buf[24];
    char *end = buf + sizeof buf, *start;
    uint64_t value = 0;
    if (k->kind == 1) {
        int64_t v = k->s;
        if (r->run_bits >= 0) v >>= r->run_bits; /* arithmetic: floors like Python's >> */
        value = (uint64_t)v;
    } else if (k->kind == 2) {
        value = r->run_bits >= 0 ? k->u >> r->run_bits : k->u;
    }
    if (r->last_kind == k->kind && r->last_value == value) return r->last_answer;
    if (k->kind == 0) {
        start = end - 4;
        memcpy(start, "None", 4);
    } else if (k->kind == 1 && (int64_t)value < 0) {
        start = digits(0 - value, end); /* two's complement: the magnitude, even of INT64_MIN */
        *--start = '-';
    } else {
        start = digits(value, end);
    }
    uint32_t h = crc32_continue(r->seed, start, (size_t)(end - start));
    r->last_kind = k->kind;
    r->last_value = value;
    r->last_answer = r->owned[h % (uint32_t)r->shards] != 0;
    return r->last_answer;
}

/* Find table number `index` of the Binlog's dml_data; -1 if not there or ambiguous. */
static int find_table(Buf msg, Py_ssize_t index, Buf *table) {
    uint32_t f;
    int wt;
    Buf dml;
    int dml_seen = 0;
    while (msg.p < msg.end) {
        if (read_tag(&msg, &f, &wt)) return -1;
        if (f == 3) {
            if (dml_seen || read_sub(&msg, wt, &dml)) return -1; /* twice: protobuf merges */
            dml_seen = 1;
        } else if (skip_field(&msg, wt)) {
            return -1;
        }
    }
    if (!dml_seen) return -1;
    Py_ssize_t i = 0;
    while (dml.p < dml.end) {
        if (read_tag(&dml, &f, &wt)) return -1;
        if (f == 1) {
            Buf t;
            if (read_sub(&dml, wt, &t)) return -1;
            if (i++ == index) { *table = t; /* keep scanning: the rest must be well formed */ }
        } else if (skip_field(&dml, wt)) {
            return -1;
        }
    }
    return i > index ? 0 : -1;
}

/* ---- conversion: the owned rows' values, from the wire, as the Python converters give them ----
 *
 * Why: converting the rows a process applies was the largest cost left in decode (~3-5 us per
 * row image in Python: a protobuf attribute read, a presence check and a converter call per
 * column; docs/performance.md, twenty-third session). Each column type has a plan
 * (values.column_plan): which value field it reads, as what base value (kind), and an optional
 * Python function applied to that value (DECIMAL text -> Decimal, DATETIME text -> datetime,
 * ...). Here the base value is read straight from the wire and the function called on it, which
 * is what the Python converter (values.decoder_for: the same plan) does. Strict, like the rest of
 * this module: a Column with a field repeated, an unknown field, a field in another wire type, a
 * value field other than its kind's (or more than one), is_null with a value, invalid UTF-8, or
 * a function that raises, gives way: the caller then converts the table in Python, which gives
 * the exact value or the exact error.
 *
 * convert = (kinds, posts, make, ops)
 *   kinds  bytes, one per column: 'i' int64_value or uint64_value (an integer column), 'u'
 *          uint64_value (ENUM, SET), 'd' double_value, 's' string_value ('' if no value field),
 *          'b' bytes_value (b'' if no value field); 'N' and 'T' read string_value like 's' and
 *          convert the common text here (below), leaving the rest to the function
 *   posts  tuple, one per column: None or a function of the base value
 *   make   RowChange; ops (Op.INSERT, Op.UPDATE, Op.DELETE), by MutationType number
 */
typedef struct {
    const char *kinds;
    PyObject *posts;
    PyObject *make;
    PyObject *ops;
} Conv;

/* Clear a Python exception raised by a conversion: the caller gives way and the Python path
 * raises it again, with the row and column named. Anything not an Exception propagates. */
static int give_way_on(void) {
    if (!PyErr_ExceptionMatches(PyExc_Exception)) return -1;
    PyErr_Clear();
    return 0;
}

/* decimal.Decimal, set at import */
static PyObject *decimal_type;

/* Kind 'N', DECIMAL text: plain text (-?digits[.digits], as TiDB writes it) -> Decimal(text),
 * which is what the plan's function (values.parse_decimal) returns for it. Why here: that
 * function is a Python call per value. 1: *out set; 0: not plain (or Decimal raised), the
 * caller calls the function; -1: an error that is not an Exception. */
static int decimal_fast(Buf s, PyObject **out) {
    const uint8_t *p = s.p, *e = s.end;
    if (e - p > 128) return 0;
    if (p < e && *p == '-') p++;
    const uint8_t *d0 = p;
    while (p < e && *p >= '0' && *p <= '9') p++;
    if (p == d0) return 0;
    if (p < e && *p == '.') {
        const uint8_t *f0 = ++p;
        while (p < e && *p >= '0' && *p <= '9') p++;
        if (p == f0) return 0;
    }
    if (p != e) return 0;
    PyObject *t = PyUnicode_FromStringAndSize((const char *)s.p, e - s.p), *v = NULL;
    if (t != NULL) {
        v = PyObject_CallOneArg(decimal_type, t);
        Py_DECREF(t);
    }
    if (v == NULL) return give_way_on();
    *out = v;
    return 1;
}

static int fixed_digits(const uint8_t *p, int n, int *v) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        x = x * 10 + (p[i] - '0');
    }
    *v = x;
    return 0;
}

/* Kind 'T', DATETIME / TIMESTAMP text: "YYYY-MM-DD hh:mm:ss" with 0 or 1-6 fraction digits, all
 * digits where digits go -> a naive datetime of those fields, which is what the plan's function
 * (values.parse_datetime's fast path: fromisoformat) returns for that text. A field out of range
 * (a zero date, 2024-02-30, hour 24) makes datetime raise: the function then decides (a zero date
 * stays text, a bad one is an error). Returns as decimal_fast. */
static int datetime_fast(Buf s, PyObject **out) {
    Py_ssize_t n = s.end - s.p;
    const uint8_t *p = s.p;
    int y, mo, d, h, mi, se, us = 0;
    if (!(n == 19 || (n >= 21 && n <= 26 && p[19] == '.'))) return 0;
    if (p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' || p[16] != ':') return 0;
    if (fixed_digits(p, 4, &y) || fixed_digits(p + 5, 2, &mo) || fixed_digits(p + 8, 2, &d)
        || fixed_digits(p + 11, 2, &h) || fixed_digits(p + 14, 2, &mi) || fixed_digits(p + 17, 2, &se))
        return 0;
    if (n > 19) {
        int k = (int)n - 20;
        if (fixed_digits(p + 20, k, &us)) return 0;
        for (; k < 6; k++) us *= 10;
    }
    PyObject *v = PyDateTime_FromDateAndTime(y, mo, d, h, mi, se, us);
    if (v == NULL) return give_way_on();
    *out = v;
    return 1;
}

/* One Column as the native value (a new reference); NULL without an error set: give way. */
static PyObject *column_value(Buf c, char kind, PyObject *post) {
    unsigned seen = 0;
    uint64_t nul = 0, iv = 0, uv = 0, dv = 0;
    Buf s = {0};
    uint32_t f;
    int wt;
    while (c.p < c.end) {
        if (read_tag(&c, &f, &wt) || f > 6 || (seen & (1u << f))) return NULL;
        seen |= 1u << f;
        if (f <= 3) {
            uint64_t v;
            if (wt != 0 || read_varint(&c, &v)) return NULL;
            if (f == 1) nul = v;
            else if (f == 2) iv = v;
            else uv = v;
        } else if (f == 4) {
            if (wt != 1 || c.end - c.p < 8) return NULL;
            for (int i = 7; i >= 0; i--) dv = (dv << 8) | c.p[i]; /* little-endian on the wire */
            c.p += 8;
        } else if (read_sub(&c, wt, &s)) {
            return NULL;
        }
    }
    unsigned vals = seen & 0x7Cu; /* the value fields 2-6 present */
    if (nul) {
        if (vals) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *v = NULL;
    switch (kind) {
    case 'i':
        if (vals == 1u << 2) v = PyLong_FromLongLong((long long)(int64_t)iv);
        else if (vals == 1u << 3) v = PyLong_FromUnsignedLongLong((unsigned long long)uv);
        else return NULL;
        break;
    case 'u':
        if (vals != 1u << 3) return NULL;
        v = PyLong_FromUnsignedLongLong((unsigned long long)uv);
        break;
    case 'd': {
        double d;
        if (vals != 1u << 4) return NULL;
        memcpy(&d, &dv, sizeof d);
        v = PyFloat_FromDouble(d);
        break;
    }
    case 's':
        if (vals != 0 && vals != 1u << 6) return NULL;
        v = PyUnicode_DecodeUTF8((const char *)s.p, s.end - s.p, NULL);
        if (v == NULL && give_way_on() == 0) return NULL;
        break;
    case 'N':
    case 'T': {
        if (vals != 0 && vals != 1u << 6) return NULL;
        int got = kind == 'N' ? decimal_fast(s, &v) : datetime_fast(s, &v);
        if (got) return got > 0 ? v : NULL;
        v = PyUnicode_DecodeUTF8((const char *)s.p, s.end - s.p, NULL);
        if (v == NULL && give_way_on() == 0) return NULL;
        break;
    }
    case 'b':
        if (vals != 0 && vals != 1u << 5) return NULL;
        v = PyBytes_FromStringAndSize((const char *)s.p, s.end - s.p);
        break;
    default:
        return NULL;
    }
    if (v == NULL || post == Py_None) return v;
    PyObject *r = PyObject_CallOneArg(post, v);
    Py_DECREF(v);
    if (r == NULL) give_way_on();
    return r;
}

/* A Row image as a tuple of exactly ncols native values; NULL without an error: give way. */
static PyObject *row_values(Buf row, Py_ssize_t ncols, const Conv *cv) {
    PyObject *t = PyTuple_New(ncols);
    if (t == NULL) return NULL;
    Py_ssize_t i = 0;
    uint32_t f;
    int wt;
    while (row.p < row.end) {
        Buf col;
        if (read_tag(&row, &f, &wt) || f != 1 || i >= ncols || read_sub(&row, wt, &col)) goto give_way;
        PyObject *v = column_value(col, cv->kinds[i], PyTuple_GET_ITEM(cv->posts, i));
        if (v == NULL) {
            Py_DECREF(t);
            return NULL; /* an error, or give way */
        }
        PyTuple_SET_ITEM(t, i++, v);
    }
    if (i == ncols) return t;
give_way:
    Py_DECREF(t);
    return NULL;
}

/* The RowChange of one mutation (as decode.py builds it); NULL without an error: give way. */
static PyObject *row_change(int type, Buf row, Buf change, Py_ssize_t ncols, const Conv *cv) {
    PyObject *img = row_values(row, ncols, cv), *before = NULL, *rc = NULL;
    if (img == NULL) return NULL;
    if (type == 1 && (before = row_values(change, ncols, cv)) == NULL) goto done;
    PyObject *args[3] = {PyTuple_GET_ITEM(cv->ops, type), type == 2 ? Py_None : img,
                         type == 1 ? before : type == 2 ? img : Py_None};
    rc = PyObject_Vectorcall(cv->make, args, 3, NULL);
    if (rc == NULL) give_way_on();
done:
    Py_DECREF(img);
    Py_XDECREF(before);
    return rc;
}

/* convert tuple -> Conv; -1 with an error set if it is not (kinds, posts, make, ops) for ncols. */
static int conv_from(PyObject *t, Py_ssize_t ncols, Conv *cv) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 4 || !PyBytes_Check(PyTuple_GET_ITEM(t, 0))
        || PyBytes_GET_SIZE(PyTuple_GET_ITEM(t, 0)) != ncols || !PyTuple_Check(PyTuple_GET_ITEM(t, 1))
        || PyTuple_GET_SIZE(PyTuple_GET_ITEM(t, 1)) != ncols || !PyTuple_Check(PyTuple_GET_ITEM(t, 3))
        || PyTuple_GET_SIZE(PyTuple_GET_ITEM(t, 3)) != 3) {
        PyErr_SetString(PyExc_ValueError, "convert must be (kinds, posts, make, ops) for the table's columns");
        return -1;
    }
    cv->kinds = PyBytes_AS_STRING(PyTuple_GET_ITEM(t, 0));
    cv->posts = PyTuple_GET_ITEM(t, 1);
    cv->make = PyTuple_GET_ITEM(t, 2);
    cv->ops = PyTuple_GET_ITEM(t, 3);
    return 0;
}

/* The rows of one table: with a rule, which are owned (by key_col); without, all of them. With
 * cv the owned rows are converted; without, they are None. -> (rows, owned_indexes), None (give
 * way) or NULL (a Python error). */
static PyObject *table_rows(Buf msg, Py_ssize_t table_index, Py_ssize_t key_col, Py_ssize_t ncols, Rule *rule,
                            PyObject *ph, const Conv *cv) {
    PyObject *rows = NULL, *idx = NULL, *result = NULL;
    Buf table;
    if (find_table(msg, table_index, &table)) goto fallback;
    rows = PyList_New(0);
    idx = PyList_New(0);
    if (!rows || !idx) goto done;
    Py_ssize_t mi = 0;
    uint32_t f;
    int wt;
    while (table.p < table.end) {
        if (read_tag(&table, &f, &wt)) goto fallback;
        if (f != 4) {
            if (skip_field(&table, wt)) goto fallback;
            continue;
        }
        Buf m;
        if (read_sub(&table, wt, &m)) goto fallback;
        int type = -1, nrow = 0, nchange = 0;
        Buf row = {0}, change = {0};
        while (m.p < m.end) {
            if (read_tag(&m, &f, &wt)) goto fallback;
            if (f == 1) {
                uint64_t v;
                if (wt != 0 || type >= 0 || read_varint(&m, &v) || v > 2) goto fallback;
                type = (int)v;
            } else if (f == 2) {
                if (nrow++ || read_sub(&m, wt, &row)) goto fallback;
            } else if (f == 3) {
                if (nchange++ || read_sub(&m, wt, &change)) goto fallback;
            } else if (skip_field(&m, wt)) {
                goto fallback;
            }
        }
        /* Insert (0) / Delete (2): row only; Update (1): row and change_row. */
        if (type < 0 || !nrow || (type == 1) != (nchange == 1)) goto fallback;
        int mine = 1;
        if (rule != NULL) {
            Key k;
            if (row_key(row, key_col, ncols, &k)) goto fallback;
            mine = owns(rule, &k);
            if (type == 1) {
                Key kb;
                if (row_key(change, key_col, ncols, &kb)) goto fallback;
                mine = mine || owns(rule, &kb);
            }
        }
        if (mine) {
            PyObject *n = PyLong_FromSsize_t(mi);
            if (!n) goto done;
            int err = PyList_Append(idx, n);
            Py_DECREF(n);
            if (err) goto done;
            if (cv == NULL) {
                if (PyList_Append(rows, Py_None)) goto done;
            } else {
                PyObject *rc = row_change(type, row, change, ncols, cv);
                if (rc == NULL) {
                    if (PyErr_Occurred()) goto done;
                    goto fallback;
                }
                err = PyList_Append(rows, rc);
                Py_DECREF(rc);
                if (err) goto done;
            }
        } else if (PyList_Append(rows, PyTuple_GET_ITEM(ph, type))) {
            goto done;
        }
        mi++;
    }
    result = PyTuple_Pack(2, rows, idx);
    goto done;
fallback:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(rows);
    Py_XDECREF(idx);
    return result;
}

static PyObject *owned_rows(PyObject *self, PyObject *args) {
    Py_buffer value, owned;
    Py_ssize_t table_index, key_col, ncols;
    unsigned long seed;
    int run_bits;
    PyObject *ph, *convert = Py_None;
    if (!PyArg_ParseTuple(args, "y*nnnky*iO!|O", &value, &table_index, &key_col, &ncols, &seed, &owned,
                          &run_bits, &PyTuple_Type, &ph, &convert))
        return NULL;
    PyObject *result = NULL;
    Conv cv;
    if (PyTuple_GET_SIZE(ph) != 3 || owned.len < 1 || key_col < 0 || key_col >= ncols || run_bits > 63) {
        PyErr_SetString(PyExc_ValueError, "owned_rows: bad arguments");
        goto done;
    }
    if (convert != Py_None && conv_from(convert, ncols, &cv)) goto done;
    Rule rule = {(uint32_t)seed, (const char *)owned.buf, owned.len, run_bits, -1, 0, 0};
    Buf msg = {(const uint8_t *)value.buf, (const uint8_t *)value.buf + value.len};
    result = table_rows(msg, table_index, key_col, ncols, &rule, ph, convert != Py_None ? &cv : NULL);
done:
    PyBuffer_Release(&value);
    PyBuffer_Release(&owned);
    return result;
}

/* all_rows(value, table_index, ncols, convert) -> [RowChange per mutation] | None (give way). */
static PyObject *all_rows(PyObject *self, PyObject *args) {
    Py_buffer value;
    Py_ssize_t table_index, ncols;
    PyObject *convert, *result = NULL;
    Conv cv;
    if (!PyArg_ParseTuple(args, "y*nnO", &value, &table_index, &ncols, &convert))
        return NULL;
    if (ncols < 1 || conv_from(convert, ncols, &cv)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "all_rows: bad arguments");
        goto done;
    }
    Buf msg = {(const uint8_t *)value.buf, (const uint8_t *)value.buf + value.len};
    PyObject *got = table_rows(msg, table_index, -1, ncols, NULL, NULL, &cv);
    if (got == NULL || got == Py_None) {
        result = got;
        goto done;
    }
    result = PyTuple_GET_ITEM(got, 0);
    Py_INCREF(result);
    Py_DECREF(got);
done:
    PyBuffer_Release(&value);
    return result;
}

/* ---- skim: a whole plain message read from its bytes, without protobuf ----
 *
 * Why: at -p N a process reads every message of the partition, and most messages hold rows of
 * one shard only (key runs), so in a -p 2 flow each process gets half its messages with no row
 * of its own. Parsing such a message with protobuf, building its header's cache key and
 * scanning its rows cost ~9 us per 10-row message (~0.9 us per row of the topic, the largest
 * cost only -p N pays; docs/performance.md). skim reads the envelope, identifies each table's
 * header by its bytes and scans its rows, all from the wire, in one call. It is strict: it
 * accepts only the plain form of a well-formed DML message (every field it expects once and with
 * its wire type, every nested message well formed down to each column's fields, no field it does
 * not know above the mutations); anything else hands the message to the full decode (protobuf
 * parse, decode.py), which stays the specification. tests/unit/test_rowscan.py compares the two
 * on random, odd and damaged messages.
 *
 * A message with rows of this process's is checked the same way, whole, and answered too: the
 * caller then converts those tables' rows from the wire (owned_rows, all_rows), so no process
 * parses a plain message with protobuf once it knows its tables' headers (twenty-fourth
 * session: the parse was ~3.5 us of a 10-row message, paid by every process at -p N).
 *
 * skim(value, headers, interest)
 *   headers   dict: a table's header bytes (table_header) -> the decoder's cached header, a list
 *             whose [0] is the TableSchema, [2] the interest it was answered for and [5] the
 *             skim's rule for the table: () = no row here (count only), or owned_rows'
 *             (key_col, ncols, seed, owned, run_bits, ...) arguments; anything else: not skimmed
 *   interest  None: every row is this process's (no rule is read)
 * -> (commit_ts, [header per table], [per table: bytes of its mutation types when no row of it
 *    is this process's, else None]); False when a table's header is not in headers for this
 *    interest (decode fully and learn it); None otherwise (decode fully).
 */

/* A Column's fields are well formed; its known fields have their declared wire types. */
static int check_column(Buf c) {
    static const int8_t want[7] = {-1, 0, 0, 0, 1, 2, 2};
    uint32_t f;
    int wt;
    while (c.p < c.end) {
        if (read_tag(&c, &f, &wt)) return -1;
        if (f <= 6 && wt != want[f]) return -1;
        if (skip_field(&c, wt)) return -1;
    }
    return 0;
}

/* A Row image: every column well formed; with key_col >= 0 the key column's Key and exactly
 * ncols columns. -1: let the full decode decide; 1: the key is owned (with a rule); 0: not. */
static int check_row(Buf row, Py_ssize_t key_col, Py_ssize_t ncols, Key *k, Rule *rule) {
    Py_ssize_t i = 0;
    int mine = 0;
    uint32_t f;
    int wt;
    while (row.p < row.end) {
        if (read_tag(&row, &f, &wt)) return -1;
        if (f == 1) {
            Buf col;
            if (read_sub(&row, wt, &col) || check_column(col)) return -1;
            if (i == key_col) {
                if (column_key(col, k)) return -1;
                if (rule != NULL && owns(rule, k)) mine = 1;
            }
            i++;
        } else if (skip_field(&row, wt)) {
            return -1;
        }
    }
    return (key_col < 0 || (i == ncols && key_col < i)) ? mine : -1;
}

/* The bytes of a Table's fields other than its mutations, and the span of the mutations.
 * 0, -1 (not the plain form: a field the skim does not expect, or a header field between two
 * mutations), or -2 (a Python error is set). Why the header's bytes: a table's structure is
 * a function of them, so the same bytes are the same cached header (decode.py _table). */
static int table_parts(Buf t, PyObject **key, Buf *muts) {
    const uint8_t *start = t.p, *m0 = NULL, *m1 = NULL;
    uint32_t f;
    int wt;
    while (t.p < t.end) {
        const uint8_t *at = t.p;
        Buf sub;
        if (read_tag(&t, &f, &wt) || f > 5 || read_sub(&t, wt, &sub)) return -1;
        if (f == 4) {
            if (m0 == NULL) m0 = at;
            else if (m1 != at) return -1;
            m1 = t.p;
        }
    }
    if (m0 == NULL) m0 = m1 = t.end;
    Py_ssize_t a = m0 - start, b = t.end - m1;
    muts->p = m0;
    muts->end = m1;
    /* The previous call's header, when it is the same bytes (most messages: one table shape
     * after another): the object is reused, with its hash already computed. */
    static PyObject *last = NULL;
    if (last != NULL && PyBytes_GET_SIZE(last) == a + b && memcmp(PyBytes_AS_STRING(last), start, (size_t)a) == 0
        && memcmp(PyBytes_AS_STRING(last) + a, m1, (size_t)b) == 0) {
        Py_INCREF(last);
        *key = last;
        return 0;
    }
    PyObject *k = PyBytes_FromStringAndSize(NULL, a + b);
    if (!k) return -2;
    memcpy(PyBytes_AS_STRING(k), start, (size_t)a);
    memcpy(PyBytes_AS_STRING(k) + a, m1, (size_t)b);
    *key = k;
    Py_INCREF(k);
    Py_XSETREF(last, k);
    return 0;
}

/* The Binlog's dml_data of a plain DML message (type DML, commit_ts, dml_data, each once, nothing
 * else); -1 otherwise. */
static int dml_envelope(Buf msg, uint64_t *ts, Buf *dml) {
    uint32_t f;
    int wt;
    int has_type = 0, has_ts = 0, has_dml = 0;
    uint64_t v;
    while (msg.p < msg.end) {
        if (read_tag(&msg, &f, &wt)) return -1;
        if (f == 1 || f == 2) {
            if (wt != 0 || read_varint(&msg, &v)) return -1;
            if (f == 1) {
                if (has_type++ || v != 0) return -1;
            } else {
                if (has_ts++) return -1;
                *ts = v;
            }
        } else if (f == 3) {
            if (has_dml++ || read_sub(&msg, wt, dml)) return -1;
        } else {
            return -1;
        }
    }
    return (has_type && has_ts && has_dml) ? 0 : -1;
}

/* Mutation types (one byte each) of a table's mutations, every one checked; 1 if a row is owned
 * (always, without rule_args: every row is), 0 if none, -1: full decode. */
static int skim_mutations(Buf muts, PyObject *rule_args, uint8_t *types, Py_ssize_t *count) {
    Py_ssize_t key_col = -1, ncols = -1;
    Rule rule = {0, NULL, 0, -1, -1, 0, 0};
    int mine = rule_args == NULL;
    if (rule_args == NULL) {
        /* every row */
    } else if (PyTuple_GET_SIZE(rule_args) >= 5) {
        PyObject *owned = PyTuple_GET_ITEM(rule_args, 3);
        if (!PyBytes_Check(owned) || PyBytes_GET_SIZE(owned) < 1) return -1;
        key_col = PyLong_AsSsize_t(PyTuple_GET_ITEM(rule_args, 0));
        ncols = PyLong_AsSsize_t(PyTuple_GET_ITEM(rule_args, 1));
        rule.seed = (uint32_t)PyLong_AsUnsignedLong(PyTuple_GET_ITEM(rule_args, 2));
        rule.run_bits = (int)PyLong_AsLong(PyTuple_GET_ITEM(rule_args, 4));
        if (PyErr_Occurred()) {
            PyErr_Clear();
            return -1;
        }
        if (key_col < 0 || key_col >= ncols || rule.run_bits > 63 || rule.run_bits < -1) return -1;
        rule.owned = PyBytes_AS_STRING(owned);
        rule.shards = PyBytes_GET_SIZE(owned);
    } else if (PyTuple_GET_SIZE(rule_args) != 0) {
        return -1;
    }
    Py_ssize_t n = 0;
    uint32_t f;
    int wt;
    while (muts.p < muts.end) {
        Buf m;
        if (read_tag(&muts, &f, &wt) || f != 4 || read_sub(&muts, wt, &m)) return -1;
        int type = -1, nrow = 0, nchange = 0;
        Buf row = {0}, change = {0};
        while (m.p < m.end) {
            if (read_tag(&m, &f, &wt)) return -1;
            if (f == 1) {
                uint64_t v;
                if (wt != 0 || type >= 0 || read_varint(&m, &v) || v > 2) return -1;
                type = (int)v;
            } else if (f == 2) {
                if (nrow++ || read_sub(&m, wt, &row)) return -1;
            } else if (f == 3) {
                if (nchange++ || read_sub(&m, wt, &change)) return -1;
            } else if (skip_field(&m, wt)) {
                return -1;
            }
        }
        if (type < 0 || !nrow || (type == 1) != (nchange == 1)) return -1;
        Key k;
        Rule *r = rule.owned != NULL ? &rule : NULL;
        int got = check_row(row, key_col, ncols, &k, r);
        if (got < 0 || (nchange && (got |= check_row(change, key_col, ncols, &k, r)) < 0)) return -1;
        mine |= got;
        types[n++] = (uint8_t)type;
    }
    *count = n;
    return mine;
}

static PyObject *skim(PyObject *self, PyObject *args) {
    Py_buffer value;
    PyObject *headers, *interest;
    if (!PyArg_ParseTuple(args, "y*O!O", &value, &PyDict_Type, &headers, &interest))
        return NULL;
    PyObject *hits = NULL, *types = NULL, *key = NULL, *result = NULL;
    uint8_t *tbuf = NULL, small[256];
    Buf msg = {(const uint8_t *)value.buf, (const uint8_t *)value.buf + value.len};
    uint64_t ts = 0;
    Buf dml;
    if (dml_envelope(msg, &ts, &dml)) goto fallback;
    hits = PyList_New(0);
    types = PyList_New(0);
    if (!hits || !types) goto done;
    while (dml.p < dml.end) {
        uint32_t f;
        int wt;
        Buf t, muts;
        if (read_tag(&dml, &f, &wt) || f != 1 || read_sub(&dml, wt, &t)) goto fallback;
        int r = table_parts(t, &key, &muts);
        if (r == -2) goto done;
        if (r) goto fallback;
        PyObject *hit = PyDict_GetItemWithError(headers, key); /* borrowed */
        Py_CLEAR(key);
        if (hit == NULL) {
            if (PyErr_Occurred()) goto done;
            goto unknown;
        }
        if (!PyList_Check(hit) || PyList_GET_SIZE(hit) < 6 || PyList_GET_ITEM(hit, 2) != interest) goto unknown;
        PyObject *rule_args = PyList_GET_ITEM(hit, 5);
        if (interest == Py_None) rule_args = NULL; /* every row is this process's */
        else if (!PyTuple_Check(rule_args)) goto fallback;
        uint8_t *tb_at = small;  /* a mutation is >= 2 bytes: half the span bounds their count */
        if ((size_t)(muts.end - muts.p) / 2 + 1 > sizeof small) {
            PyMem_Free(tbuf);
            tb_at = tbuf = PyMem_Malloc((size_t)(muts.end - muts.p) / 2 + 1);
            if (!tbuf) {
                PyErr_NoMemory();
                goto done;
            }
        }
        Py_ssize_t n = 0;
        int got = skim_mutations(muts, rule_args, tb_at, &n);
        if (got < 0) goto fallback;
        /* A table with a row of this process's: None in place of its types (the caller
         * converts its rows from the wire: owned_rows, all_rows). */
        PyObject *tb = got ? Py_NewRef(Py_None) : PyBytes_FromStringAndSize((const char *)tb_at, n);
        if (!tb) goto done;
        int err = PyList_Append(types, tb);
        Py_DECREF(tb);
        if (err || PyList_Append(hits, hit)) goto done;
    }
    PyObject *cts = PyLong_FromLongLong((long long)(int64_t)ts);
    if (!cts) goto done;
    result = PyTuple_Pack(3, cts, hits, types);
    Py_DECREF(cts);
    goto done;
unknown:
    result = Py_False;
    Py_INCREF(result);
    goto done;
fallback:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(key);
    Py_XDECREF(hits);
    Py_XDECREF(types);
    PyMem_Free(tbuf);
    PyBuffer_Release(&value);
    return result;
}

/* table_header(value, table_index) -> the bytes skim identifies that table's header by, or None. */
static PyObject *table_header(PyObject *self, PyObject *args) {
    Py_buffer value;
    Py_ssize_t index;
    if (!PyArg_ParseTuple(args, "y*n", &value, &index))
        return NULL;
    PyObject *result = NULL, *key = NULL;
    Buf msg = {(const uint8_t *)value.buf, (const uint8_t *)value.buf + value.len};
    Buf dml, t = {0}, muts;
    uint64_t ts;
    Py_ssize_t i = 0;
    if (dml_envelope(msg, &ts, &dml)) goto fallback;
    while (dml.p < dml.end) {
        uint32_t f;
        int wt;
        Buf sub;
        if (read_tag(&dml, &f, &wt) || f != 1 || read_sub(&dml, wt, &sub)) goto fallback;
        if (i++ == index) t = sub;
    }
    if (index < 0 || i <= index) goto fallback;
    int r = table_parts(t, &key, &muts);
    if (r == -2) goto done;
    if (r) goto fallback;
    result = key;
    key = NULL;
    goto done;
fallback:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(key);
    PyBuffer_Release(&value);
    return result;
}

static PyMethodDef methods[] = {
    {"owned_rows", owned_rows, METH_VARARGS,
     "owned_rows(value, table_index, key_col, ncols, seed, owned, run_bits, placeholders[, convert]) -> (rows, owned_indexes) | None"},
    {"all_rows", all_rows, METH_VARARGS,
     "all_rows(value, table_index, ncols, convert) -> [RowChange] | None"},
    {"skim", skim, METH_VARARGS,
     "skim(value, headers, interest) -> (commit_ts, [header], [mutation types | None]) | False | None"},
    {"table_header", table_header, METH_VARARGS, "table_header(value, table_index) -> bytes | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rowscan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rowscan(void) {
    crc_init();
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    PyObject *dec = PyImport_ImportModule("decimal");
    if (dec == NULL) return NULL;
    decimal_type = PyObject_GetAttrString(dec, "Decimal");
    Py_DECREF(dec);
    if (decimal_type == NULL) return NULL;
    return PyModule_Create(&module);
}
