/*
 * tidb2mysql.mysql._rowtext: rows of native values as LOAD DATA text (encode), and as SQL
 * VALUES tuples (values, further down), in C.
 *
 * Why it exists: the replication writer loads each flush's new rows with LOAD DATA LOCAL from
 * memory (load_data.py), and rendering them as text was the largest CPU cost of its writer
 * threads (~2 us per 10-column row in Python: a dict lookup and a call per value, an f-string
 * per row; docs/performance.md, twenty-third session). On two cores that CPU is shared with
 * the target server and the other process, so it limited -p 2.
 *
 * It is the same mapping as load_data.RowText's Python path, which stays the specification:
 * None, int, str, float, datetime (naive), Decimal (when its str() is plain) and bytes (hex
 * columns) are rendered here exactly as the Python functions render them; every other value
 * is rendered by calling the Python function the caller's per-kind table gives for its exact
 * type. A value the Python path has
 * no text for (its type not in the table, NaN or an infinity, text that is not UTF-8, or the
 * function raising NoText or KeyError) makes it return None, as the Python path does.
 * tests/unit/test_load_data.py compares the two.
 *
 * encode(rows, kinds, tables, no_text) -> bytes | None
 *   rows     list of sequences of values, one per column
 *   kinds    bytes, one per column: 'p' plain, 'h' hex, 'n' number (load_data.HEX ...)
 *   tables   (plain, hex, number): dicts exact type -> function(value) -> str
 *   no_text  load_data.NoText
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <string.h>

typedef struct {
    char *p;
    Py_ssize_t len, cap;
} Out;

static int grow(Out *o, Py_ssize_t more) {
    if (o->len + more <= o->cap) return 0;
    Py_ssize_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + more) cap *= 2;
    char *p = PyMem_Realloc(o->p, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->p = p;
    o->cap = cap;
    return 0;
}

static int put(Out *o, const char *s, Py_ssize_t n) {
    if (grow(o, n)) return -1;
    memcpy(o->p + o->len, s, (size_t)n);
    o->len += n;
    return 0;
}

/* The escape letter of each byte (0: the byte as is): in LOAD DATA text (load_data._t_str:
 * \\ TAB LF NUL), and in an SQL string's content (sql._enc_str: \\ ' NUL LF CR ^Z). */
static char load_escapes[256], sql_escapes[256];

static void escapes_init(void) {
    static const char load[] = "\\\\\tt\nn", sql[] = "\\\\''\nn\rr\x1aZ"; /* pairs: byte, letter */
    for (size_t i = 0; i + 1 < sizeof load; i += 2) load_escapes[(unsigned char)load[i]] = load[i + 1];
    for (size_t i = 0; i + 1 < sizeof sql; i += 2) sql_escapes[(unsigned char)sql[i]] = sql[i + 1];
    load_escapes[0] = sql_escapes[0] = '0'; /* NUL, which a C string cannot hold */
}

/* str -> UTF-8, escaped by the table esc (NULL: as is); 1: not UTF-8 (no text). */
static int put_text(Out *o, PyObject *v, const char *esc) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(v, &n);
    if (s == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
        PyErr_Clear();
        return 1;
    }
    if (grow(o, esc ? 2 * n : n)) return -1;
    char *d = o->p + o->len;
    if (!esc) {
        memcpy(d, s, (size_t)n);
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            char e = esc[(unsigned char)s[i]];
            if (e) {
                *d++ = '\\';
                *d++ = e;
            } else {
                *d++ = s[i];
            }
        }
        n = d - (o->p + o->len);
    }
    o->len += n;
    return 0;
}

static int put_int(Out *o, PyObject *v) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred()) return -1;
    if (!overflow) {
        char buf[24], *e = buf + sizeof buf, *d = e;
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        do {
            *--d = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (x < 0) *--d = '-';
        return put(o, d, e - d);
    }
    PyObject *s = PyObject_Str(v);
    if (s == NULL) return -1;
    int r = put_text(o, s, NULL);
    Py_DECREF(s);
    return r;
}

/* float -> repr (the shortest text that reads back exactly); 1: NaN or an infinity. */
static int put_float(Out *o, PyObject *v) {
    double d = PyFloat_AS_DOUBLE(v);
    if (!isfinite(d)) return 1;
    char *s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (s == NULL) return -1;
    int r = put(o, s, (Py_ssize_t)strlen(s));
    PyMem_Free(s);
    return r;
}

/* v (>= 0) as exactly w decimal digits at d (the low ones; w covers every field here). */
static char *fixed(char *d, int v, int w) {
    for (int i = w - 1; i >= 0; i--) {
        d[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return d + w;
}

/* naive datetime -> isoformat(" "): YYYY-MM-DD HH:MM:SS[.ffffff] (years are 1-9999) */
static int put_datetime(Out *o, PyObject *v) {
    if (grow(o, 26)) return -1;
    char *d = o->p + o->len;
    int us = PyDateTime_DATE_GET_MICROSECOND(v);
    d = fixed(d, PyDateTime_GET_YEAR(v), 4);
    *d++ = '-';
    d = fixed(d, PyDateTime_GET_MONTH(v), 2);
    *d++ = '-';
    d = fixed(d, PyDateTime_GET_DAY(v), 2);
    *d++ = ' ';
    d = fixed(d, PyDateTime_DATE_GET_HOUR(v), 2);
    *d++ = ':';
    d = fixed(d, PyDateTime_DATE_GET_MINUTE(v), 2);
    *d++ = ':';
    d = fixed(d, PyDateTime_DATE_GET_SECOND(v), 2);
    if (us) {
        *d++ = '.';
        d = fixed(d, us, 6);
    }
    o->len = d - o->p;
    return 0;
}

static int put_hex(Out *o, PyObject *v) {
    static const char digits[] = "0123456789abcdef";
    Py_ssize_t n = PyBytes_GET_SIZE(v);
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(v);
    if (grow(o, 2 * n)) return -1;
    char *d = o->p + o->len;
    for (Py_ssize_t i = 0; i < n; i++) {
        *d++ = digits[s[i] >> 4];
        *d++ = digits[s[i] & 15];
    }
    o->len += 2 * n;
    return 0;
}

/* decimal.Decimal, set at import */
static PyObject *decimal_type;

/* A Decimal whose str() is plain (digits, '-', '.': finite, no exponent) is that text, which
 * is what load_data._t_decimal and sql._enc_decimal return for it; anything else (an exponent,
 * NaN, Infinity) goes to those functions. 1: not plain, the caller asks its table. */
static int put_decimal(Out *o, PyObject *v) {
    PyObject *s = PyObject_Str(v);
    if (s == NULL) return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    int r = u == NULL ? -1 : 0;
    for (Py_ssize_t i = 0; r == 0 && i < n; i++)
        if (!((u[i] >= '0' && u[i] <= '9') || u[i] == '-' || u[i] == '.')) r = 1;
    if (r == 0 && n == 0) r = 1;
    if (r == 0) r = put(o, u, n);
    Py_DECREF(s);
    return r;
}

/* The caller's Python function for the value's exact type; 1: none, or no exact text. */
static int put_by_table(Out *o, PyObject *table, PyObject *v, PyObject *no_text) {
    PyObject *f = PyDict_GetItemWithError(table, (PyObject *)Py_TYPE(v)); /* borrowed */
    if (f == NULL) return PyErr_Occurred() ? -1 : 1;
    PyObject *s = PyObject_CallOneArg(f, v);
    if (s == NULL) {
        if (PyErr_ExceptionMatches(no_text) || PyErr_ExceptionMatches(PyExc_KeyError)
            || PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            return 1;
        }
        return -1;
    }
    int r = -1;
    if (PyUnicode_Check(s)) r = put_text(o, s, NULL);
    else PyErr_SetString(PyExc_TypeError, "encode: a text function returned a non-str");
    Py_DECREF(s);
    return r;
}

/* One value of a column of kind k: 0 written, 1 no exact text, -1 a Python error. */
static int put_value(Out *o, PyObject *v, char k, PyObject *tables, PyObject *no_text) {
    if (v == Py_None) return put(o, "\\N", 2);
    PyTypeObject *t = Py_TYPE(v);
    if (k == 'p') {
        if (t == &PyUnicode_Type) return put_text(o, v, load_escapes);
        if (t == &PyLong_Type) return put_int(o, v);
        if (t == &PyFloat_Type) return put_float(o, v);
        if (PyDateTime_CheckExact(v) && !((_PyDateTime_BaseTZInfo *)v)->hastzinfo) return put_datetime(o, v);
        if ((PyObject *)t == decimal_type) {
            int r = put_decimal(o, v);
            if (r <= 0) return r;
        }
        return put_by_table(o, PyTuple_GET_ITEM(tables, 0), v, no_text);
    }
    if (k == 'h') {
        if (t == &PyBytes_Type) return put_hex(o, v);
        return put_by_table(o, PyTuple_GET_ITEM(tables, 1), v, no_text);
    }
    if (t == &PyLong_Type) return put_int(o, v);
    return put_by_table(o, PyTuple_GET_ITEM(tables, 2), v, no_text);
}

static PyObject *encode(PyObject *self, PyObject *args) {
    PyObject *rows, *tables, *no_text;
    Py_buffer kinds;
    if (!PyArg_ParseTuple(args, "O!y*O!O", &PyList_Type, &rows, &kinds, &PyTuple_Type, &tables, &no_text))
        return NULL;
    Out o = {NULL, 0, 0};
    PyObject *result = NULL;
    const char *ks = (const char *)kinds.buf;
    if (PyTuple_GET_SIZE(tables) != 3) {
        PyErr_SetString(PyExc_ValueError, "encode: tables must be (plain, hex, number)");
        goto done;
    }
    int uniform = 1; /* every column plain: the Python path renders every value of a row */
    for (Py_ssize_t i = 0; i < kinds.len; i++) {
        uniform = uniform && ks[i] == 'p';
        if (ks[i] != 'p' && ks[i] != 'h' && ks[i] != 'n') {
            PyErr_SetString(PyExc_ValueError, "encode: kinds are 'p', 'h' or 'n'");
            goto done;
        }
        if (!PyDict_Check(PyTuple_GET_ITEM(tables, ks[i] == 'p' ? 0 : ks[i] == 'h' ? 1 : 2))) {
            PyErr_SetString(PyExc_ValueError, "encode: tables must be dicts");
            goto done;
        }
    }
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(rows); r++) {
        PyObject *row = PySequence_Fast(PyList_GET_ITEM(rows, r), "encode: a row must be a sequence");
        if (row == NULL) goto done;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(row);
        if (!uniform && n > kinds.len) n = kinds.len; /* as zip() in the Python path */
        PyObject **vals = PySequence_Fast_ITEMS(row);
        int got = 0;
        for (Py_ssize_t i = 0; i < n && got == 0; i++) {
            if (i && put(&o, "\t", 1)) got = -1;
            else got = put_value(&o, vals[i], uniform ? 'p' : ks[i], tables, no_text);
        }
        Py_DECREF(row);
        if (got < 0) goto done;
        if (got > 0) {
            result = Py_None;
            Py_INCREF(result);
            goto done;
        }
        if (put(&o, "\n", 1)) goto done;
    }
    result = PyBytes_FromStringAndSize(o.p ? o.p : "", o.len);
done:
    PyMem_Free(o.p);
    PyBuffer_Release(&kinds);
    return result;
}

/* ---- values: rows as SQL VALUES tuples ----
 *
 * Why: the writer's upserts (updates, and rows not loaded) render each row as "(v1,v2,...)"
 * with sql.encode_values, ~3 us per 10-column row in Python (a dict lookup and a call per
 * value; twenty-fourth session), on the writer threads that share two cores with the target.
 * The same mapping, sql.encode_values stays the specification: None, int, str (escaped as
 * sql._enc_str escapes it), float (repr), Decimal (plain text), bytes (X'hex') and naive
 * datetime are rendered here as sql's functions render them; any other value by calling the
 * function the caller's table gives for its exact type (its errors, LiteralError, propagate).
 * A value whose type has no function, or a str that is not UTF-8, makes it return None: the
 * caller then takes the Python path, which has the exact answer.
 *
 * values(rows, encoders) -> [str per row] | None
 *   rows      list of sequences of values
 *   encoders  dict: exact type -> function(value) -> str (sql._ENCODERS)
 */

/* One value as an SQL literal: 0 written, 1 the Python path decides, -1 a Python error. */
static int put_literal(Out *o, PyObject *v, PyObject *encoders) {
    if (v == Py_None) return put(o, "NULL", 4);
    PyTypeObject *t = Py_TYPE(v);
    int r;
    if (t == &PyLong_Type) return put_int(o, v);
    if (t == &PyUnicode_Type) {
        if (put(o, "'", 1)) return -1;
        if ((r = put_text(o, v, sql_escapes)) != 0) return r;
        return put(o, "'", 1);
    }
    if (t == &PyFloat_Type && (r = put_float(o, v)) <= 0) return r;
    if ((PyObject *)t == decimal_type && (r = put_decimal(o, v)) <= 0) return r;
    if (t == &PyBytes_Type) {
        if (put(o, "X'", 2) || put_hex(o, v)) return -1;
        return put(o, "'", 1);
    }
    if (PyDateTime_CheckExact(v) && !((_PyDateTime_BaseTZInfo *)v)->hastzinfo) {
        if (put(o, "'", 1) || put_datetime(o, v)) return -1;
        return put(o, "'", 1);
    }
    PyObject *f = PyDict_GetItemWithError(encoders, (PyObject *)t); /* borrowed */
    if (f == NULL) return PyErr_Occurred() ? -1 : 1;
    PyObject *s = PyObject_CallOneArg(f, v);
    if (s == NULL) return -1;
    r = PyUnicode_Check(s) ? put_text(o, s, NULL) : 1;
    Py_DECREF(s);
    return r;
}

static PyObject *values(PyObject *self, PyObject *args) {
    PyObject *rows, *encoders;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &rows, &PyDict_Type, &encoders))
        return NULL;
    Out o = {NULL, 0, 0};
    Py_ssize_t nrows = PyList_GET_SIZE(rows);
    PyObject *out = PyList_New(nrows), *result = NULL;
    if (out == NULL) return NULL;
    for (Py_ssize_t r = 0; r < nrows; r++) {
        PyObject *row = PySequence_Fast(PyList_GET_ITEM(rows, r), "values: a row must be a sequence");
        if (row == NULL) goto done;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(row);
        PyObject **vals = PySequence_Fast_ITEMS(row);
        o.len = 0;
        int got = put(&o, "(", 1);
        for (Py_ssize_t i = 0; i < n && got == 0; i++) {
            if (i && put(&o, ",", 1)) got = -1;
            else got = put_literal(&o, vals[i], encoders);
        }
        Py_DECREF(row);
        if (got == 0) got = put(&o, ")", 1);
        if (got < 0) goto done;
        if (got > 0) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        PyObject *text = PyUnicode_DecodeUTF8(o.p, o.len, NULL);
        if (text == NULL) goto done;
        PyList_SET_ITEM(out, r, text);
    }
    result = Py_NewRef(out);
done:
    Py_DECREF(out);
    PyMem_Free(o.p);
    return result;
}

static PyMethodDef methods[] = {
    {"encode", encode, METH_VARARGS, "encode(rows, kinds, tables, no_text) -> bytes | None"},
    {"values", values, METH_VARARGS, "values(rows, encoders) -> [str] | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rowtext", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rowtext(void) {
    escapes_init();
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    PyObject *dec = PyImport_ImportModule("decimal");
    if (dec == NULL) return NULL;
    decimal_type = PyObject_GetAttrString(dec, "Decimal");
    Py_DECREF(dec);
    if (decimal_type == NULL) return NULL;
    return PyModule_Create(&module);
}
