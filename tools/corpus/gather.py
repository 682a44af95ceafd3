#!/usr/bin/env python3
"""Gathers the training corpus of the bundled default model from what is installed here.

Sources (each file's licence is read from where it is declared, and a file whose licence is not
known to be free is left out):
  * Debian packages: man pages (troff stripped to text), GNU info manuals, prose documentation under
    /usr/share/doc (README, NEWS, Markdown, text; upstream changelogs capped because they are weak
    prose); the licence of each is the package's /usr/share/doc/PKG/copyright.
  * Node.js's documentation (API reference and contributor guides in Markdown, MIT).
  * Python's standard library source (/usr/lib/python3.X, PSF licence) and Debian's Python packages
    (/usr/lib/python3/dist-packages, licence from their Debian copyright files).
  * npm packages under node_modules/: README and source, kept only when package.json's "license"
    is a permissive one (MIT, ISC, BSD, Apache-2.0, ...).

Documents are long on purpose: one package's man pages, one module's (or one Python package's)
full source, one npm package's source are each one document, so that patterns spanning thousands
of tokens exist to be learned.

A held-out set (never trained on) is chosen first and removed from the corpus, including any other
file that shares several long lines with it (copies of the same text in another package).

Output (OUT, default .device-train/, an ignored folder: the corpus is not committed):
  OUT/corpus.txt.xz     documents separated by the byte 0x1E (record separator), UTF-8
  OUT/heldout/*.txt     the held-out documents
  OUT/manifest.tsv      family, package, licence, name, bytes of each document
and SOURCES.md next to this script (counts per source family and licence).

Python 3.11 standard library only. Deterministic: the same installed files give the same corpus.
Usage: python3 tools/corpus/gather.py [--out .device-train] [--node-modules node_modules]
"""
from __future__ import annotations

import argparse
import collections
import glob
import gzip
import hashlib
import html.parser
import json
import lzma
import os
import re
import subprocess
import sys

SEP = '\x1e'
HERE = os.path.dirname(os.path.abspath(__file__))

# Held-out documents: (name, path, transform). They ship in public/texts/ (the first four) or
# stay in OUT/heldout only; none is trained on.
HELDOUT = [
    ('prose-2k', '/usr/share/doc/nodejs/contributing/technical-values.md', 'text'),
    ('prose-long', '/usr/share/doc/nodejs/contributing/pull-requests.md', 'text'),
    ('code-long', '/usr/lib/python3.11/fractions.py', 'text'),
    ('structured-long', '/usr/share/doc/nodejs/api/path.json.gz', 'gzip'),
    ('prose-long-2', '/usr/share/doc/nodejs/contributing/collaborator-guide.md', 'text'),
    ('prose-long-3', '/usr/share/doc/nodejs/contributing/writing-and-running-benchmarks.md', 'text'),
    ('code-long-2', '/usr/lib/python3.11/textwrap.py', 'text'),
    ('man-long', '/usr/share/man/man1/find.1.gz', 'man'),
]
# Files with the same content as a held-out document under another name (the Markdown that
# path.json was generated from).
HELDOUT_TWINS = {'/usr/share/doc/nodejs/api/path.md', '/usr/share/doc/nodejs/api/path.html'}

# Permissive npm licences (SPDX ids). An expression is kept when every alternative of an OR has
# at least one allowed branch and every AND operand is allowed.
NPM_ALLOWED = {'MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD', 'BlueOak-1.0.0',
               'Unlicense', 'CC0-1.0', 'Python-2.0', 'MIT-0', 'Zlib', 'BSD'}

# Debian licence short names that are free; anything matching none of these leaves the package out.
DEB_FREE = re.compile(r'(GPL|LGPL|AGPL|GFDL|BSD|MIT|Expat|Apache|Artistic|PSF|Python|public.?domain|'
                      r'Zlib|ISC|MPL|CC0|CC-BY|X11|OpenSSL|SSLeay|Unicode|FSF|permissive|curl|BSL|'
                      r'Boost|OFL|Perl|Tcl|Sleepycat|W3C|NTP|HPND|bzip2|libpng|IJG|Ruby|Vim|'
                      r'OLDAP|Beerware|WTFPL|Unlicense|Info-ZIP|other)', re.I)
# Packages from third-party repositories (not Debian main): left out. google-cloud-cli's 16K
# generated man pages would also swamp the corpus with near-identical text.
THIRD_PARTY = ('google-cloud-cli', 'google-cloud-sdk')
DEB_NONFREE = re.compile(r'non-?free|proprietary|all rights reserved only', re.I)

# Byte caps, so that no single source dominates and the xz'd corpus fits the device's carry limit.
CAP_CHANGELOG = 48_000          # per Debian package: upstream changelog (most recent part)
CAP_DEB_DOC = 600_000           # per Debian package: README/NEWS/Markdown/text
CAP_MAN_PKG = 3_000_000         # per Debian package: its man pages, one document
CAP_NPM_PKG = 3_000_000         # per npm package: README + source
CAP_NPM_TOTAL = 70_000_000      # all npm packages together
CAP_PY_TOTAL = 40_000_000       # Python sources together
SOURCE_EXT = ('.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.tsx', '.jsx')


def read_text(path: str, gz: bool = False) -> str | None:
    """UTF-8 text of a file, or None when it is binary or not UTF-8."""
    try:
        raw = gzip.open(path).read() if gz else open(path, 'rb').read()
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    if b'\x00' in raw[:8192]:
        return None
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        try:
            text = raw.decode('latin-1')  # old man pages; kept only if it looks like text
        except UnicodeDecodeError:
            return None
    return text.replace('\r\n', '\n').replace(SEP, ' ').replace('\x00', '')


def looks_minified(text: str) -> bool:
    """Bundled or minified code teaches little: very long lines."""
    lines = text.split('\n')
    if not lines:
        return True
    longest = max(len(l) for l in lines)
    return longest > 1000 or len(text) / max(1, len(lines)) > 200


# ---------------------------------------------------------------------------------------------
# troff (man pages) to text

_ESCAPES = [
    (re.compile(r'\\f(\[[^\]]*\]|\(..|.)'), ''),          # font changes
    (re.compile(r'\\s[+-]?\d'), ''),                      # size changes
    (re.compile(r'\\\((aq|cq)'), "'"), (re.compile(r'\\\((lq|rq|dq)'), '"'),
    (re.compile(r'\\\((em|en)'), '-'), (re.compile(r'\\\(bu'), '*'), (re.compile(r'\\\(co'), '(c)'),
    (re.compile(r'\\\(ti'), '~'), (re.compile(r'\\\(ha'), '^'), (re.compile(r'\\\(ga'), '`'),
    (re.compile(r'\\\(mu'), 'x'), (re.compile(r'\\\(>='), '>='), (re.compile(r'\\\(<='), '<='),
    (re.compile(r'\\\(rs'), '\\\\'),
    (re.compile(r'\\\(..'), ''), (re.compile(r'\\\[[^\]]*\]'), ''),
    (re.compile(r'\\\*(\(..|\[[^\]]*\]|.)'), ''),         # strings
    (re.compile(r'\\[nk](\(..|\[[^\]]*\]|.)'), ''),       # registers
    (re.compile(r'\\[hvwoDlLxXbZN]\'[^\']*\''), ''),
    (re.compile(r'\\[-]'), '-'), (re.compile(r'\\e'), '\\\\'), (re.compile(r'\\[&|^%:,/)c!]'), ''),
    (re.compile(r'\\ '), ' '), (re.compile(r'\\0'), ' '), (re.compile(r'\\~'), ' '), (re.compile(r'\\\.'), '.'),
]
_BREAK = {'PP', 'LP', 'P', 'sp', 'br', 'TP', 'IP', 'HP', 'RS', 'RE', 'TQ', 'nf', 'fi', 'EX', 'EE', 'in', 'ti', 'Sp', 'Pp'}
_TEXT_MACROS = {'B', 'I', 'BR', 'RB', 'IR', 'RI', 'BI', 'IB', 'SM', 'SB', 'UR', 'MT', 'Nm', 'Ar', 'Fl', 'Op', 'Xr', 'Dv', 'Ev', 'Pa', 'Em', 'Sy', 'Cm', 'Li', 'Va', 'Fn', 'Ft', 'Fa', 'Nd', 'It', 'Dl', 'Ql', 'Dq', 'Sq', 'Pq'}


def troff_to_text(src: str) -> str | None:
    """Plain text of a man page: paragraphs filled into single lines as troff would fill them,
    no-fill blocks (.nf/.EX) kept line by line, headings on their own lines."""
    out: list[str] = []
    para: list[str] = []
    fill = True
    tag_next = False  # .TP: the next line is a tag on a line of its own

    def flush() -> None:
        if para:
            out.append(' '.join(para))
            para.clear()

    def text(t: str) -> None:
        nonlocal tag_next
        if fill:
            if t.strip():
                para.append(t.strip())
                if tag_next:
                    flush()
                    tag_next = False
            else:
                flush()
                out.append('')
        else:
            out.append(t)

    for line in src.split('\n'):
        if line.startswith(('.\\"', "'\\\"", '.\\#')) or line.strip() in ('.', "'"):
            continue
        if not line.startswith(('.', "'")):
            text(line)
            continue
        parts = line[1:].strip().split(None, 1)
        if not parts:
            continue
        macro, arg = parts[0], (parts[1] if len(parts) > 1 else '')
        if macro == 'so':
            return None  # a redirect to another page
        if macro in ('SH', 'SS', 'Sh', 'Ss'):
            flush()
            out.extend(['', arg.replace('"', '').strip(), ''])
        elif macro in ('TH', 'Dt'):
            out.append(arg.replace('"', '').split()[0] if arg.split() else '')
        elif macro in ('nf', 'EX', 'Bd'):
            flush()
            fill = False
        elif macro in ('fi', 'EE', 'Ed'):
            fill = True
        elif macro in _BREAK:
            flush()
            if macro in ('PP', 'LP', 'P', 'sp', 'TP', 'IP', 'HP', 'Pp', 'Sp'):
                out.append('')
            tag_next = macro == 'TP'
            if macro == 'IP' and arg:
                words = re.findall(r'"[^"]*"|\S+', arg)
                para.append(words[0].strip('"'))
                flush()
        elif macro in _TEXT_MACROS:
            words = [w.strip('"') for w in re.findall(r'"[^"]*"|\S+', arg)]
            alternating = len(macro) == 2 and macro.isupper() and macro not in ('SM', 'SB', 'UR', 'MT')
            text(''.join(words) if alternating else ' '.join(words))
        # every other request (.de, .if, .ds, .nr, .ta, .TS ...) is dropped
    flush()
    doc = '\n'.join(out)
    for pat, rep in _ESCAPES:
        doc = pat.sub(rep, doc)
    doc = doc.replace('\\', '')
    doc = re.sub(r'\n{3,}', '\n\n', doc)
    return doc.strip() + '\n'


def info_to_text(src: str) -> str:
    return re.sub(r'[\x1f\x7f]', '', src).replace('\x08', '')


# ---------------------------------------------------------------------------------------------
# Debian package ownership and licences

def dpkg_owners() -> dict[str, str]:
    owners: dict[str, str] = {}
    for lst in sorted(glob.glob('/var/lib/dpkg/info/*.list')):
        pkg = os.path.basename(lst)[:-5].split(':')[0]
        for p in open(lst, encoding='utf-8', errors='replace').read().split('\n'):
            if p:
                owners.setdefault(p, pkg)
    return owners


_licence_cache: dict[str, str | None] = {}


def deb_licence(pkg: str) -> str | None:
    """The package's main licence (the first "License:" of its copyright file, which is the
    "Files: *" stanza in the machine-readable format), or None when the package has no copyright
    file, says it is not free, or comes from a third-party repository (THIRD_PARTY). Everything
    else installed here is from Debian main, whose packages are all DFSG-free."""
    if pkg in _licence_cache:
        return _licence_cache[pkg]
    path = f'/usr/share/doc/{pkg}/copyright'
    text = read_text(path) if os.path.exists(path) else None
    result: str | None = None
    if text and not DEB_NONFREE.search(text[:4000]) and not pkg.startswith(THIRD_PARTY):
        m = re.search(r'^License:\s*(\S.*)$', text, re.M)
        if m:
            result = m.group(1).strip()
        else:  # not machine-readable: name the licence by its words
            for word, name in (('GNU General Public License', 'GPL'), ('GNU Lesser General', 'LGPL'),
                               ('GNU Library General', 'LGPL'), ('Apache License', 'Apache-2.0'),
                               ('Permission is hereby granted, free of charge', 'MIT'), ('BSD', 'BSD'),
                               ('Artistic License', 'Artistic'), ('public domain', 'public-domain'),
                               ('Python Software Foundation', 'PSF'), ('GNU Free Documentation', 'GFDL'),
                               ('Permission to use, copy, modify', 'MIT-style')):
                if word.lower() in text.lower():
                    result = name
                    break
            result = result or 'see copyright (Debian main)'
    _licence_cache[pkg] = result
    return result


# ---------------------------------------------------------------------------------------------

class Corpus:
    def __init__(self, heldout_lines: set[str]):
        self.docs: list[tuple[str, str, str, str, str]] = []  # family, package, licence, name, text
        self.seen: set[str] = set()
        self.heldout_lines = heldout_lines
        self.dropped_heldout: list[str] = []
        self.dropped_licence: collections.Counter[str] = collections.Counter()

    def shares_heldout(self, text: str, name: str) -> bool:
        hits = {l for l in (x.strip() for x in text.split('\n')) if len(l) >= 40 and l in self.heldout_lines}
        if len(hits) >= 5:
            self.dropped_heldout.append(name)
            return True
        return False

    def fresh(self, text: str) -> bool:
        """False for a file already taken (same content elsewhere: packages share docs)."""
        h = hashlib.sha1(text.encode('utf-8', 'replace')).hexdigest()
        if h in self.seen:
            return False
        self.seen.add(h)
        return True

    def add(self, family: str, pkg: str, lic: str, name: str, parts: list[str]) -> None:
        text = '\n\n'.join(p.strip('\n') for p in parts if p.strip()).strip()
        if len(text) >= 200:
            self.docs.append((family, pkg, lic, name, text + '\n'))


def heldout_texts() -> dict[str, str]:
    out = {}
    for name, path, kind in HELDOUT:
        if kind == 'man':
            text = troff_to_text(read_text(path, gz=True) or '')
        else:
            text = read_text(path, gz=(kind == 'gzip'))
        if not text:
            sys.exit(f'held-out source {path} is missing: install it or change HELDOUT in {__file__}')
        out[name] = text
    return out


def gather_man(c: Corpus, owners: dict[str, str], excluded: set[str]) -> None:
    by_pkg: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for path in sorted(glob.glob('/usr/share/man/man[1-8]*/*')):
        real = os.path.realpath(path)
        if real in excluded or not os.path.isfile(real):
            continue
        pkg = owners.get(path) or owners.get(real)
        if pkg:
            by_pkg[pkg].append((path, real))
    for pkg in sorted(by_pkg):
        lic = deb_licence(pkg)
        if not lic:
            c.dropped_licence['man:' + pkg] += 1
            continue
        parts, size = [], 0
        for path, real in by_pkg[pkg]:
            src = read_text(real, gz=real.endswith('.gz'))
            text = troff_to_text(src) if src else None
            if not text or len(text) < 200 or not c.fresh(text) or c.shares_heldout(text, path):
                continue
            if size + len(text) > CAP_MAN_PKG:
                break
            parts.append(text)
            size += len(text)
        c.add('man', pkg, lic, f'man pages of {pkg}', parts)


def gather_info(c: Corpus, owners: dict[str, str]) -> None:
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for path in sorted(glob.glob('/usr/share/info/*.info*')):
        base = re.sub(r'\.info(-\d+)?(\.gz)?$', '', os.path.basename(path))
        groups[base].append(path)
    for base, paths in sorted(groups.items()):
        pkg = owners.get(paths[0])
        lic = deb_licence(pkg) if pkg else None
        if not lic:
            continue
        paths.sort(key=lambda p: int(m.group(1)) if (m := re.search(r'-(\d+)', os.path.basename(p))) else 0)
        parts = []
        for p in paths:
            t = read_text(p, gz=p.endswith('.gz'))
            if t and c.fresh(t) and not c.shares_heldout(t, p):
                parts.append(info_to_text(t))
        c.add('info', pkg, lic, f'info manual {base}', parts)


def gather_deb_doc(c: Corpus, excluded: set[str]) -> None:
    prose = re.compile(r'(README|NEWS|FAQ|TODO|AUTHORS|HACKING|CONTRIBUTING|GOVERNANCE|SECURITY|'
                       r'BUILDING|INSTALL|THANKS|USAGE|GUIDE|\.md|\.txt|\.rst)(\.gz)?$', re.I)
    for pkg in sorted(os.listdir('/usr/share/doc')):
        root = os.path.join('/usr/share/doc', pkg)
        if not os.path.isdir(root) or os.path.islink(root):
            continue
        lic = deb_licence(pkg)
        if not lic:
            c.dropped_licence['doc:' + pkg] += 1
            continue
        parts, size, changelog = [], 0, []
        for dirpath, dirnames, files in os.walk(root):
            dirnames.sort()
            for f in sorted(files):
                p = os.path.join(dirpath, f)
                if p in excluded or os.path.islink(p):
                    continue
                is_changelog = f.startswith(('changelog', 'CHANGELOG', 'ChangeLog', 'CHANGES')) and 'Debian' not in f
                if not (prose.search(f) or is_changelog) or f.startswith('changelog.Debian'):
                    continue
                t = read_text(p, gz=f.endswith('.gz'))
                if not t or not c.fresh(t) or c.shares_heldout(t, p):
                    continue
                if is_changelog:
                    if not changelog:
                        changelog.append(t[:CAP_CHANGELOG])
                elif size + len(t) <= CAP_DEB_DOC:
                    parts.append(f'{os.path.relpath(p, "/usr/share/doc")}\n\n{t}')
                    size += len(t)
        c.add('debian-doc', pkg, lic, f'documentation of {pkg}', parts)
        c.add('debian-changelog', pkg, lic, f'changelog of {pkg}', changelog)


class _HtmlText(html.parser.HTMLParser):
    """The visible text of an HTML page: no scripts, styles or navigation, block elements on their own lines."""
    BLOCK = {'p', 'div', 'br', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre', 'tr', 'dt', 'dd', 'table', 'section'}
    SKIP = {'script', 'style', 'nav', 'head'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self.out.append('\n')

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        elif tag in self.BLOCK:
            self.out.append('\n')

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_to_text(src: str) -> str:
    h = _HtmlText()
    h.feed(src)
    text = re.sub(r'[ \t]+', ' ', ''.join(h.out))
    return re.sub(r'\n\s*\n+', '\n\n', text).strip()


# English prose books and manuals from Debian packages that are not installed on a build machine:
# fetched with `apt-get download` and unpacked with `dpkg -x` into --extra-root (see the
# README of tools/train-default-model). (package, licence, path pattern under the root, kind)
EXTRA_PROSE = [
    ('debian-handbook', 'GPL-2+ or CC-BY-SA-3.0', 'usr/share/doc/debian-handbook/html/en-US/*.html', 'html'),
    ('debian-reference-en', 'GPL-2+', 'usr/share/debian-reference/*.en.html', 'html'),
    ('developers-reference', 'MIT-style', 'usr/share/developers-reference/*.html', 'html'),
    ('maint-guide', 'GPL-2+', 'usr/share/doc/maint-guide/html/*.en.html', 'html'),
    ('python3.11-doc', 'PSF-2.0', 'usr/share/doc/python3.11/html/_sources/**/*.txt', 'text'),
    ('perl-doc', 'GPL-1+ or Artistic', 'usr/share/perl/5.36.0/pod/*.pod', 'text'),
    ('fortunes', 'BSD-3-clause', 'usr/share/games/fortunes/*.u8', 'text'),
]


# Fortune files quoting works under their own copyright (novels, a TV series), or of poor taste.
FORTUNES_LEFT_OUT = {'pratchett', 'startrek', 'ethnic', 'men-women', 'drugs', 'knghtbrd', 'zippy', 'ascii-art', 'translate-me'}


def gather_extra_prose(c: Corpus, root: str, excluded: set[str]) -> None:
    if not root:
        return
    if not os.path.isdir(root):
        sys.exit(f'--extra-root {root} is not a folder: unpack the packages listed in EXTRA_PROSE there first')
    for pkg, lic, pattern, kind in EXTRA_PROSE:
        files = [f for f in sorted(glob.glob(os.path.join(root, pattern), recursive=True))
                 if os.path.basename(f).split('.')[0] not in FORTUNES_LEFT_OUT]
        if not files:
            print(f'  extra prose: nothing for {pkg} under {root} ({pattern})', flush=True)
            continue
        parts, docs = [], 0
        for p in files:
            t = read_text(p)
            if not t:
                continue
            t = html_to_text(t) if kind == 'html' else t
            if not c.fresh(t) or c.shares_heldout(t, p):
                continue
            parts.append(t)
            if sum(map(len, parts)) > 400_000:  # documents of about 100K tokens: long on purpose
                c.add('prose-books', pkg, lic, f'{pkg} part {docs}', parts)
                parts, docs = [], docs + 1
        c.add('prose-books', pkg, lic, f'{pkg} part {docs}', parts)


def gather_python(c: Corpus, owners: dict[str, str], excluded: set[str]) -> None:
    total = 0
    roots = sorted(glob.glob('/usr/lib/python3.[0-9]*'))
    for root in roots:
        ver = os.path.basename(root)
        entries = sorted(os.listdir(root))
        for e in entries:
            p = os.path.join(root, e)
            if e in ('site-packages', 'dist-packages', '__pycache__', 'test', 'idlelib', 'lib2to3', 'config-3.11-x86_64-linux-gnu') or e.startswith('config-'):
                continue
            files = [p] if p.endswith('.py') else sorted(glob.glob(p + '/**/*.py', recursive=True)) if os.path.isdir(p) else []
            parts = []
            for f in files:
                if f in excluded or '/test' in f[len(root):]:
                    continue
                t = read_text(f)
                if t and c.fresh(t) and not c.shares_heldout(t, f):
                    parts.append(f'# File: {os.path.relpath(f, root)}\n{t}')
            if total < CAP_PY_TOTAL:
                c.add('python-stdlib', ver, 'PSF-2.0', f'{ver}/{e}', parts)
                total += sum(map(len, parts))
    dist = '/usr/lib/python3/dist-packages'
    for e in sorted(os.listdir(dist)) if os.path.isdir(dist) else []:
        p = os.path.join(dist, e)
        if not os.path.isdir(p) or e.endswith(('-info', '__pycache__')):
            continue
        pkg = owners.get(p) or next((owners[f] for f in sorted(glob.glob(p + '/*.py')) if f in owners), None)
        lic = deb_licence(pkg) if pkg else None
        if not lic:
            continue
        parts = []
        for f in sorted(glob.glob(p + '/**/*.py', recursive=True)):
            t = read_text(f)
            if t and '/tests/' not in f and c.fresh(t) and not c.shares_heldout(t, f):
                parts.append(f'# File: {os.path.relpath(f, dist)}\n{t}')
        if total < CAP_PY_TOTAL:
            c.add('python-dist-packages', pkg, lic, f'dist-packages/{e}', parts)
            total += sum(map(len, parts))


def npm_licence(meta: dict) -> str | None:
    lic = meta.get('license') or meta.get('licenses')
    if isinstance(lic, list):
        lic = ' OR '.join((l.get('type') if isinstance(l, dict) else str(l)) or '' for l in lic)
    if isinstance(lic, dict):
        lic = lic.get('type')
    if not isinstance(lic, str) or not lic.strip():
        return None
    expr = lic.strip().strip('()')
    for alt in re.split(r'\s+OR\s+', expr):
        if all(op.strip('() ') in NPM_ALLOWED for op in re.split(r'\s+AND\s+', alt)):
            return lic.strip()
    return None


def gather_npm(c: Corpus, node_modules: str) -> None:
    pkgs = sorted(set(os.path.dirname(p) for p in glob.glob(os.path.join(node_modules, '**/package.json'), recursive=True)
                      if re.search(r'node_modules/(@[^/]+/)?[^/@]+/package\.json$', p)))
    total = 0
    for d in pkgs:
        try:
            meta = json.load(open(os.path.join(d, 'package.json')))
        except (OSError, ValueError):
            continue
        name = meta.get('name') or os.path.basename(d)
        lic = npm_licence(meta)
        if not lic:
            c.dropped_licence['npm:' + str(meta.get('license'))] += 1
            continue
        parts, size = [], 0
        readmes = sorted(f for f in os.listdir(d) if f.lower().startswith('readme'))
        srcs = []
        for dirpath, dirnames, files in os.walk(d):
            dirnames[:] = sorted(x for x in dirnames if x not in ('node_modules', 'test', 'tests', '__tests__', 'fixtures', 'benchmark', 'example', 'examples'))
            for f in sorted(files):
                if f.endswith(SOURCE_EXT) and not f.endswith(('.min.js', '.map')) or (f.endswith('.md') and dirpath != d):
                    srcs.append(os.path.join(dirpath, f))
        for f in [os.path.join(d, r) for r in readmes] + srcs:
            t = read_text(f)
            if not t or len(t) < 100 or (f.endswith(SOURCE_EXT) and looks_minified(t)):
                continue
            if not c.fresh(t) or c.shares_heldout(t, f):
                continue
            if size + len(t) > CAP_NPM_PKG:
                continue
            parts.append(f'// File: {name}/{os.path.relpath(f, d)}\n{t}')
            size += len(t)
        if total + size > CAP_NPM_TOTAL:
            break
        c.add('npm', name, lic, f'npm package {name}', parts)
        total += size


def gather_nodejs_docs(c: Corpus, excluded: set[str]) -> None:
    """Node.js's Markdown docs (MIT): each API page is one long document. (The Debian walk above
    takes them too; taking them here first gives them their own family in SOURCES.md.)"""
    lic = 'MIT (Node.js)'  # Node.js's documentation is under the project's MIT licence
    for f in sorted(glob.glob('/usr/share/doc/nodejs/api/*.md') + glob.glob('/usr/share/doc/nodejs/contributing/**/*.md', recursive=True)):
        if f in excluded:
            continue
        t = read_text(f)
        if t and c.fresh(t) and not c.shares_heldout(t, f):
            c.add('nodejs-docs', 'nodejs', lic, os.path.relpath(f, '/usr/share/doc/nodejs'), [t])


def gather_by_package(c: Corpus, owners: dict[str, str], family: str, pattern: str, exts: tuple[str, ...],
                      cap_pkg: int, cap_total: int, comment: str) -> None:
    """Files under `pattern` (a recursive glob) grouped by owning Debian package, one document per
    package and top-level folder (a library's headers, a Perl distribution's modules)."""
    groups: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    root = pattern.split('*')[0].rstrip('/')
    for f in sorted(glob.glob(pattern, recursive=True)):
        if not f.endswith(exts) or not os.path.isfile(f) or os.path.islink(f):
            continue
        pkg = owners.get(f)
        if pkg:
            top = os.path.relpath(f, root).split('/')[0]
            groups[(pkg, top)].append(f)
    total = 0
    per_pkg: collections.Counter[str] = collections.Counter()
    for (pkg, top), files in sorted(groups.items()):
        lic = deb_licence(pkg)
        if not lic:
            continue
        parts = []
        for f in files:
            t = read_text(f)
            if not t or looks_minified(t) or not c.fresh(t) or c.shares_heldout(t, f):
                continue
            if per_pkg[pkg] + len(t) > cap_pkg or total + len(t) > cap_total:
                continue
            parts.append(f'{comment} File: {os.path.relpath(f, root)}\n{t}')
            per_pkg[pkg] += len(t)
            total += len(t)
        c.add(family, pkg, lic, f'{family} {top} ({pkg})', parts)


def write_sources(c: Corpus, path: str, heldout: dict[str, str], xz_bytes: int) -> None:
    fam: dict[str, list] = collections.defaultdict(lambda: [0, 0, 0, collections.Counter()])
    for family, pkg, lic, name, text in c.docs:
        f = fam[family]
        f[0] += 1
        f[1] += len(text.encode())
        f[2] += len(text) >= 30_000
        f[3][lic] += 1
    lines = ['# Sources of the default model\'s training corpus', '',
             'Generated by `python3 tools/corpus/gather.py` from the files installed on the machine that ran it',
             '(Debian 12 packages, Python 3.11, the project\'s node_modules). Each document\'s licence is the',
             'one its package declares: Debian packages in `/usr/share/doc/PKG/copyright`, npm packages in',
             '`package.json` "license" (only permissive ones are kept), Python\'s standard library the PSF',
             'licence. Packages whose licence could not be read, or is not free, are left out.', '',
             f'Total: {len(c.docs)} documents, {sum(f[1] for f in fam.values()) / 1e6:.1f} MB of text, '
             f'{xz_bytes / 1e6:.1f} MB as xz. "Long" = at least 30 KB (about 8K tokens).', '',
             '| family | documents | long | MB | licences (documents) |', '| --- | --- | --- | --- | --- |']
    for family, (n, b, long_, lics) in sorted(fam.items()):
        top = ', '.join(f'{k} ({v})' for k, v in lics.most_common(8))
        more = f', and {len(lics) - 8} more' if len(lics) > 8 else ''
        lines.append(f'| {family} | {n} | {long_} | {b / 1e6:.1f} | {top}{more} |')
    lines += ['', '## Held out (never trained on)', '',
              'Removed from the corpus, together with any file sharing five or more long lines with one of them.', '',
              '| name | source | bytes |', '| --- | --- | --- |']
    for name, src, _ in HELDOUT:
        lines.append(f'| {name} | `{src}` | {len(heldout[name].encode())} |')
    lines += ['', f'Files dropped for sharing text with the held-out set: {len(c.dropped_heldout)}'
              + (f' ({", ".join(os.path.basename(x) for x in c.dropped_heldout[:10])})' if c.dropped_heldout else '') + '.',
              f'Sources left out for their licence (unknown or not permissive): {sum(c.dropped_licence.values())}.', '']
    open(path, 'w').write('\n'.join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='.device-train')
    ap.add_argument('--node-modules', default='node_modules')
    ap.add_argument('--sources', default=os.path.join(HERE, 'SOURCES.md'))
    ap.add_argument('--xz-level', default='6')
    ap.add_argument('--extra-root', default='', help="a folder holding the unpacked EXTRA_PROSE packages' files")
    args = ap.parse_args()

    heldout = heldout_texts()
    heldout_lines = {l.strip() for t in heldout.values() for l in t.split('\n') if len(l.strip()) >= 40}
    excluded = {os.path.realpath(p) for _, p, _ in HELDOUT} | {p for _, p, _ in HELDOUT} | HELDOUT_TWINS
    c = Corpus(heldout_lines)
    for t in heldout.values():
        c.fresh(t)  # an identical copy elsewhere is then skipped as a duplicate

    owners = dpkg_owners()
    steps = [('nodejs docs', lambda: gather_nodejs_docs(c, excluded)),
             ('python', lambda: gather_python(c, owners, excluded)),
             ('prose books', lambda: gather_extra_prose(c, args.extra_root, excluded)),
             ('man pages', lambda: gather_man(c, owners, excluded)),
             ('info manuals', lambda: gather_info(c, owners)),
             ('debian docs', lambda: gather_deb_doc(c, excluded)),
             ('npm packages', lambda: gather_npm(c, args.node_modules)),
             ('global npm packages', lambda: gather_npm(c, '/usr/lib/node_modules')),
             ('C/C++ headers', lambda: gather_by_package(c, owners, 'c-headers', '/usr/include/**/*', ('.h', '.hpp', '.hh', '.tcc', '.inc', ''), 2_500_000, 45_000_000, '//')),
             ('Perl modules', lambda: gather_by_package(c, owners, 'perl', '/usr/share/perl/5.36.0/**/*', ('.pm', '.pod', '.pl'), 25_000_000, 25_000_000, '#')),
             ('Perl XS modules', lambda: gather_by_package(c, owners, 'perl', '/usr/lib/x86_64-linux-gnu/perl/5.36.0/**/*', ('.pm', '.pod', '.pl'), 10_000_000, 10_000_000, '#'))]
    for label, step in steps:
        step()
        print(f'{label}: {len(c.docs)} documents, {sum(len(d[4]) for d in c.docs) / 1e6:.1f} M chars so far', flush=True)

    os.makedirs(os.path.join(args.out, 'heldout'), exist_ok=True)
    for name, text in heldout.items():
        open(os.path.join(args.out, 'heldout', name + '.txt'), 'w').write(text)
    with open(os.path.join(args.out, 'manifest.tsv'), 'w') as m:
        m.write('family\tpackage\tlicence\tname\tbytes\n')
        for family, pkg, lic, name, text in c.docs:
            m.write(f'{family}\t{pkg}\t{lic}\t{name}\t{len(text.encode())}\n')
    raw = SEP.join(d[4] for d in c.docs).encode('utf-8', 'replace')
    xz_path = os.path.join(args.out, 'corpus.txt.xz')
    # xz with threads writes independent blocks, so the device can decompress in parallel too.
    subprocess.run(['xz', '-T0', f'-{args.xz_level}', '-c'], input=raw, stdout=open(xz_path, 'wb'), check=True)
    xz_bytes = os.path.getsize(xz_path)
    write_sources(c, args.sources, heldout, xz_bytes)
    print(f'corpus: {len(c.docs)} documents, {len(raw) / 1e6:.1f} MB raw, {xz_bytes / 1e6:.1f} MB xz -> {xz_path}')
    print(f'held out: {", ".join(heldout)}; dropped for overlap: {len(c.dropped_heldout)}')


if __name__ == '__main__':
    main()
