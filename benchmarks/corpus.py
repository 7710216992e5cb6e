"""Deterministic corpus of synthetic Indonesian regional news pages for the benchmarks.

Every page is a function of (seed, index) only, so the corpus for N pages is a prefix of
the corpus for more pages: a larger run extends the stored corpus instead of rewriting it.
Pages link only to earlier pages, so any prefix is a closed site the crawl benchmark can
serve. Bodies are assembled from a vocabulary and sentence patterns written for this
project; about a third carry neutrality-breach or advisory sentences naming officials, and
a share are edited or verbatim copies of earlier pages, so detection and dedup do real work.

    python -m benchmarks.corpus --docs 3000 --seed 8
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from pantau.core.calendar import DAYS, MONTHS

GENERATOR_VERSION = "1"
DEFAULT_SEED = 8
DEFAULT_DOCS = 3000
CORPUS_ROOT = Path(__file__).resolve().parent / "corpus"
MIN_BYTES = 80 * 1024
MAX_BYTES = 150 * 1024

# --- vocabulary (facts: region names; everything else invented for the benchmark) ---------

REGIONS = [
    ("Kabupaten Kepahiang", "Kepahiang", "Bengkulu"),
    ("Kabupaten Rejang Lebong", "Curup", "Bengkulu"),
    ("Kabupaten Penukal Abab Lematang Ilir", "Talang Ubi", "Sumatera Selatan"),
    ("Kabupaten Muara Enim", "Muara Enim", "Sumatera Selatan"),
    ("Kabupaten Muna Barat", "Laworo", "Sulawesi Tenggara"),
    ("Kabupaten Konawe Selatan", "Andoolo", "Sulawesi Tenggara"),
    ("Kabupaten Penajam Paser Utara", "Penajam", "Kalimantan Timur"),
    ("Kabupaten Kutai Kartanegara", "Tenggarong", "Kalimantan Timur"),
    ("Kabupaten Garut", "Garut", "Jawa Barat"),
    ("Kabupaten Tasikmalaya", "Singaparna", "Jawa Barat"),
    ("Kabupaten Banyumas", "Purwokerto", "Jawa Tengah"),
    ("Kabupaten Wonosobo", "Wonosobo", "Jawa Tengah"),
    ("Kabupaten Lamongan", "Lamongan", "Jawa Timur"),
    ("Kabupaten Jember", "Jember", "Jawa Timur"),
    ("Kabupaten Lombok Timur", "Selong", "Nusa Tenggara Barat"),
    ("Kabupaten Sikka", "Maumere", "Nusa Tenggara Timur"),
    ("Kabupaten Gowa", "Sungguminasa", "Sulawesi Selatan"),
    ("Kabupaten Bone", "Watampone", "Sulawesi Selatan"),
    ("Kabupaten Deli Serdang", "Lubuk Pakam", "Sumatera Utara"),
    ("Kabupaten Tapanuli Utara", "Tarutung", "Sumatera Utara"),
    ("Kabupaten Agam", "Lubuk Basung", "Sumatera Barat"),
    ("Kabupaten Kampar", "Bangkinang", "Riau"),
    ("Kabupaten Merangin", "Bangko", "Jambi"),
    ("Kabupaten Lampung Tengah", "Gunung Sugih", "Lampung"),
    ("Kabupaten Ketapang", "Ketapang", "Kalimantan Barat"),
    ("Kabupaten Kotawaringin Timur", "Sampit", "Kalimantan Tengah"),
    ("Kabupaten Banjar", "Martapura", "Kalimantan Selatan"),
    ("Kabupaten Minahasa", "Tondano", "Sulawesi Utara"),
    ("Kabupaten Halmahera Utara", "Tobelo", "Maluku Utara"),
    ("Kabupaten Aceh Besar", "Jantho", "Aceh"),
    ("Kota Bengkulu", "Bengkulu", "Bengkulu"),
    ("Kota Kendari", "Kendari", "Sulawesi Tenggara"),
    ("Kota Tasikmalaya", "Tasikmalaya", "Jawa Barat"),
    ("Kota Palopo", "Palopo", "Sulawesi Selatan"),
]

FIRST_NAMES = [
    "Hartono",
    "Suryadi",
    "Rahmat",
    "Siti",
    "Nurhayati",
    "Bambang",
    "Agus",
    "Dedi",
    "Yulianti",
    "Rina",
    "Herman",
    "Syamsul",
    "Fitriani",
    "Wahyu",
    "Ahmad",
    "Made",
    "Ketut",
    "Yohanes",
    "Marlina",
    "Darmawan",
    "Sutrisno",
    "Mulyadi",
    "Andi",
    "Ilham",
    "Ridwan",
    "Sri",
    "Endang",
    "Taufik",
    "Yusuf",
    "Maria",
    "Hendra",
    "Joko",
    "Eko",
    "Rudi",
    "Nanang",
    "Lukman",
    "Zulkifli",
    "Asep",
    "Ujang",
    "Nyoman",
    "Paulus",
    "Rosmini",
    "Haryati",
    "Sulaiman",
    "Fadli",
    "Irwan",
    "Budi",
    "Arief",
    "Dewi",
    "Wulan",
]
LAST_NAMES = [
    "Saputra",
    "Wijaya",
    "Hidayat",
    "Pratama",
    "Siregar",
    "Nasution",
    "Lubis",
    "Harahap",
    "Simanjuntak",
    "Rahman",
    "Setiawan",
    "Kurniawan",
    "Susanto",
    "Purnomo",
    "Lestari",
    "Handayani",
    "Anggraini",
    "Gunawan",
    "Nugroho",
    "Syahputra",
    "Ramadhan",
    "Tambunan",
    "Sembiring",
    "Manurung",
    "Pangaribuan",
    "Bakri",
    "Latif",
    "Rasyid",
    "Effendi",
    "Sulistyo",
    "Wibowo",
    "Halim",
]

BOUND_POSITIONS = [
    "Sekretaris Daerah",
    "Kepala Dinas Pendidikan",
    "Kepala Dinas Kesehatan",
    "Kepala Dinas PUPR",
    "Kepala Dinas Kominfo",
    "Kepala Dinas Sosial",
    "Kepala Badan Kepegawaian dan Pengembangan SDM",
    "Kepala Bagian Umum Setda",
    "Kepala Puskesmas",
    "Camat",
    "Lurah",
    "Kepala Desa",
    "Sekretaris Desa",
    "Kepala Sekolah SMP Negeri",
    "guru PNS",
    "pegawai honorer",
    "pegawai PPPK",
    "Penjabat (Pj) Kepala Desa",
]
ELECTED_POSITIONS = ["Bupati", "Wakil Bupati", "anggota DPRD", "Ketua DPRD"]
PARTIES = ["Partai Karya Rakyat", "Partai Suara Nusantara", "Partai Amanat Desa", "Partai Bintang"]
VILLAGES = [
    "Sukamaju",
    "Tanjung Harapan",
    "Air Meles",
    "Talang Baru",
    "Suka Makmur",
    "Sidorejo",
    "Karang Anyar",
    "Lubuk Saung",
    "Mekar Sari",
    "Bukit Indah",
    "Pasar Lama",
    "Tegal Rejo",
    "Sumber Agung",
    "Teluk Sepang",
    "Padang Ulak",
    "Sungai Rambai",
    "Batu Ampar",
    "Kampung Baru",
    "Rantau Panjang",
    "Wonosari",
    "Cempaka",
    "Lembah Hijau",
]
# Filler sentences are composed from slots so that unrelated articles share few word
# 5-shingles (as real ones do) and dedup only clusters real copies.
SUBJECTS = [
    "Pemerintah kabupaten",
    "Dinas terkait",
    "Warga setempat",
    "Para pedagang",
    "Kelompok tani",
    "Pengurus RT",
    "Tokoh masyarakat",
    "Petugas lapangan",
    "Sejumlah pemuda",
    "Ibu-ibu PKK",
    "Relawan",
    "Pihak kecamatan",
    "Kepala dusun",
    "Pengelola pasar",
    "Pelaku usaha kecil",
    "Komunitas setempat",
    "Pengurus koperasi",
    "Siswa dan guru",
    "Tenaga kesehatan",
    "Aparat kelurahan",
]
VERBS = [
    "berencana memperluas",
    "mulai membenahi",
    "terus mendorong perbaikan",
    "mengusulkan penambahan",
    "menyoroti lambannya pembangunan",
    "menggelar rapat membahas",
    "meninjau langsung",
    "mengevaluasi pengelolaan",
    "menyiapkan anggaran untuk",
    "berharap ada perhatian pada",
    "mengeluhkan kondisi",
    "memantau perkembangan",
    "mendata kebutuhan",
    "menyepakati jadwal perawatan",
    "mengajak warga menjaga",
    "menggalang dana untuk",
]
OBJECTS = [
    "saluran irigasi",
    "jembatan gantung",
    "pasar desa",
    "gedung sekolah dasar",
    "lapangan olahraga",
    "penerangan jalan umum",
    "jaringan air bersih",
    "tempat pembuangan sampah",
    "balai pertemuan",
    "jalan usaha tani",
    "pos ronda",
    "taman kota",
    "dermaga perahu nelayan",
    "kios pedagang kaki lima",
    "sumur bor",
    "jaringan internet desa",
    "bank sampah",
    "rumah tidak layak huni",
    "kebun bibit",
    "gedung posyandu",
    "tanggul sungai",
    "terminal angkutan desa",
]
PLACES = [
    "di {village}",
    "di wilayah {village}",
    "di Kecamatan {village}",
    "di sekitar {village}",
    "di pinggiran kota",
    "di kawasan hulu sungai",
    "di dekat terminal lama",
    "",
]
TIMES = [
    "pekan ini",
    "sejak awal bulan",
    "dalam dua tahun terakhir",
    "menjelang akhir tahun",
    "pada {day} pagi",
    "sebelum musim tanam",
    "selama bulan ini",
    "hingga kini",
    "setelah libur panjang",
    "",
]
TAILS = [
    "karena dinilai mendesak",
    "agar manfaatnya segera dirasakan",
    "dengan melibatkan swadaya warga",
    "meski anggaran terbatas",
    "sesuai hasil musyawarah desa",
    "untuk mendukung ekonomi setempat",
    "setelah banyak keluhan masuk",
    "dengan target selesai dalam {n} bulan",
    "bersama pihak ketiga",
    "dengan biaya sekitar Rp{amount} juta",
    "",
]
UNITS = [
    "Dinas Pendidikan",
    "Dinas Kesehatan",
    "Sekretariat Daerah",
    "Dinas Pertanian",
    "kantor kecamatan",
    "Dinas Perhubungan",
]

OUTLETS = [
    ("lintaskabar", "LintasKabar", "https://lintaskabar.example"),
    ("suaradaerah", "Suara Daerah Online", "https://suaradaerah.example"),
    ("warta-nusa", "Warta Nusa", "https://wartanusa.example"),
    ("kabar-pesisir", "Kabar Pesisir", "https://kabarpesisir.example"),
    ("detaklokal", "DetakLokal", "https://detaklokal.example"),
    ("serambi-kota", "Serambi Kota", "https://serambikota.example"),
]

CATEGORIES = [
    "Politik",
    "Pilkada",
    "Pemerintahan",
    "Hukum",
    "Ekonomi",
    "Pendidikan",
    "Kesehatan",
    "Olahraga",
    "Wisata",
    "Opini",
    "Daerah",
    "Nasional",
]
TAGS = [
    "pilkada-2024",
    "netralitas-asn",
    "bawaslu",
    "kpu",
    "pemilu",
    "bupati",
    "dprd",
    "jalan-rusak",
    "banjir",
    "stunting",
    "pupuk",
    "harga-cabai",
    "festival",
    "sepak-bola",
    "guru-honorer",
    "pppk",
    "dana-desa",
    "pasar",
    "umkm",
    "wisata",
]

FILLER_TOPICS = {
    "jalan": [
        "Perbaikan ruas jalan penghubung {village} dan pusat kecamatan ditargetkan rampung sebelum "
        "musim hujan tiba.",
        "Warga mengeluhkan lubang di sepanjang jalan menuju {village} yang kerap memicu kecelakaan "
        "pengendara sepeda motor.",
        "Anggaran pemeliharaan jalan tahun ini mencapai Rp{amount} miliar, naik dibanding tahun "
        "sebelumnya.",
        "Pengerjaan drainase di sisi jalan dilakukan bersamaan agar air tidak lagi menggenangi "
        "badan jalan.",
        "Kontraktor pelaksana diminta menjaga mutu pekerjaan sesuai spesifikasi dalam kontrak.",
    ],
    "panen": [
        "Petani di {village} memulai panen raya padi dengan hasil rata-rata {tons} ton per "
        "hektare.",
        "Harga gabah kering panen di tingkat petani saat ini berkisar Rp{price} per kilogram.",
        "Penyuluh pertanian mendampingi kelompok tani agar penggunaan pupuk lebih tepat takaran.",
        "Sebagian petani mulai beralih ke varietas unggul yang lebih tahan terhadap hama wereng.",
        "Ketersediaan pupuk bersubsidi menjadi keluhan utama petani menjelang musim tanam.",
    ],
    "kesehatan": [
        "Angka stunting di daerah ini turun menjadi {pct} persen berkat pendampingan keluarga "
        "berisiko.",
        "Posyandu di {village} kembali aktif menimbang balita dan memberikan makanan tambahan.",
        "Petugas kesehatan melakukan kunjungan rumah untuk memastikan ibu hamil mendapat tablet "
        "tambah darah.",
        "Program imunisasi kejar menyasar ribuan anak yang belum mendapat imunisasi lengkap.",
        "Puskesmas membuka layanan hingga malam hari untuk menampung pasien dari desa terpencil.",
    ],
    "pasar": [
        "Harga cabai merah di pasar tradisional naik menjadi Rp{price} per kilogram dalam sepekan "
        "terakhir.",
        "Pedagang menyebut pasokan dari sentra produksi berkurang akibat cuaca yang tidak menentu.",
        "Pemerintah daerah menggelar operasi pasar murah di {village} untuk menekan harga bahan "
        "pokok.",
        "Stok beras di gudang dinyatakan aman hingga tiga bulan ke depan.",
        "Pembeli mengaku mengurangi belanja karena harga kebutuhan dapur terus merangkak naik.",
    ],
    "festival": [
        "Festival budaya tahunan di {village} dimeriahkan tarian tradisional dan lomba perahu.",
        "Ribuan pengunjung memadati lokasi acara sejak pagi hingga malam hari.",
        "Pelaku UMKM memanfaatkan keramaian untuk memasarkan kerajinan dan kuliner khas daerah.",
        "Panitia menyiapkan kantong parkir tambahan agar arus lalu lintas tetap lancar.",
        "Dinas Pariwisata berharap festival ini masuk kalender wisata nasional tahun depan.",
    ],
    "olahraga": [
        "Tim sepak bola kecamatan {village} melaju ke babak final turnamen antarkecamatan.",
        "Pertandingan berlangsung ketat dan baru ditentukan lewat adu penalti.",
        "Pelatih mengapresiasi semangat para pemain muda yang baru pertama kali tampil.",
        "Lapangan utama baru saja direnovasi sehingga layak menggelar pertandingan resmi.",
        "Turnamen ini diharapkan menjadi ajang pembinaan atlet muda daerah.",
    ],
    "banjir": [
        "Banjir merendam puluhan rumah warga di {village} setelah hujan deras mengguyur semalaman.",
        "Ketinggian air sempat mencapai {meters} sentimeter di permukiman yang berada di dataran "
        "rendah.",
        "Petugas BPBD bersama relawan mengevakuasi warga lanjut usia ke tempat yang lebih aman.",
        "Dapur umum didirikan di balai desa untuk memenuhi kebutuhan makan para pengungsi.",
        "Warga berharap normalisasi sungai segera dilakukan agar banjir tidak terulang.",
    ],
}

POLITICS_OTHER = [
    "KPU {region} menetapkan {n} pasangan calon yang akan berlaga pada Pilkada {year}.",
    "Pengundian nomor urut pasangan calon berlangsung tertib dan disaksikan para pendukung.",
    "Pasangan {cand} dan wakilnya mendaftar ke KPU dengan diantar ratusan simpatisan.",
    "Daftar pemilih tetap di {region} tercatat sebanyak {voters} jiwa.",
    "{party} resmi mengusung {cand} sebagai bakal calon bupati.",
    "Debat publik pertama akan digelar di gedung serbaguna dengan tema pelayanan publik.",
    "Tim pemenangan {cand} menargetkan kemenangan di seluruh kecamatan.",
]

BREACH = [
    "{pos} {region}, {name}, diduga ikut menghadiri deklarasi dukungan untuk bakal calon bupati "
    "{cand} di {village}, {day} ({date}).",
    "Dalam video yang beredar di media sosial, {name} yang berstatus ASN terlihat mengacungkan "
    "jari membentuk nomor urut pasangan {cand}.",
    "{name}, yang menjabat {pos} di {region}, diduga meminta para guru honorer di lingkungan "
    "{unit} untuk memilih {cand}.",
    "Kepala Desa {village}, {name}, kedapatan membagikan stiker dan kalender bergambar {cand} "
    "kepada warga saat pembagian bantuan sosial.",
    "Oknum {pos} berinisial {initials} diduga memasang foto bersama {cand} lengkap dengan ajakan "
    "memilih di akun Facebook miliknya.",
    "Bawaslu {region} telah memanggil {name}, {pos}, untuk dimintai klarifikasi atas dugaan "
    "pelanggaran netralitas ASN.",
    "Hasil kajian Bawaslu menyimpulkan {name} terbukti melanggar netralitas ASN dan "
    "rekomendasinya telah diteruskan ke Badan Kepegawaian Negara.",
    "Camat {village}, {name}, disebut mengumpulkan para kepala desa dan mengarahkan mereka "
    "untuk memenangkan {cand}.",
    "{name} juga diduga menggunakan mobil dinas untuk mengantar tim sukses {cand} ke lokasi "
    "kampanye.",
]
BREACH_QUOTES = [
    '"Kami sudah menerima laporan masyarakat dan sedang mengumpulkan bukti," kata Ketua Bawaslu '
    "{region}, {name2}.",
    '"Jika terbukti, sanksinya bisa berupa penundaan kenaikan pangkat hingga pemberhentian," '
    "ujar {name2}.",
    '"Saya hanya kebetulan lewat dan diajak berfoto, tidak ada niat mendukung," kilah {name} '
    "saat dikonfirmasi.",
    "Sementara itu, {elected} {region} menyatakan menyerahkan sepenuhnya proses tersebut kepada "
    "Bawaslu.",
    "Pelapor menyertakan tangkapan layar dan rekaman video sebagai alat bukti.",
]
ADVISORY = [
    "Sekretaris Daerah {region}, {name}, mengingatkan seluruh ASN agar menjaga netralitas "
    "selama tahapan Pilkada {year}.",
    "Bawaslu {region} menggelar sosialisasi pengawasan netralitas ASN yang diikuti ratusan "
    "aparatur dari berbagai organisasi perangkat daerah.",
    "Surat edaran {elected} {region} tentang netralitas ASN telah disebarkan ke seluruh "
    "kecamatan dan desa.",
    "ASN dilarang memberikan dukungan, berfoto dengan gaya yang mengarah pada keberpihakan, "
    "maupun menyukai dan membagikan konten kampanye di media sosial.",
    "Para kepala desa menandatangani pakta integritas untuk bersikap netral hingga pemungutan "
    "suara.",
    "{name2} menegaskan sanksi disiplin menanti aparatur yang terbukti terlibat politik praktis.",
    "Masyarakat diminta melapor apabila menemukan ASN, TNI, Polri maupun perangkat desa yang "
    "tidak netral.",
    '"Netralitas ASN adalah harga mati agar pelayanan publik tidak terganggu," ujar {name}.',
]

# --- specs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocSpec:
    """What a page is about, cheap to derive so other pages can link to it by title."""

    index: int
    kind: str  # "breach" | "advisory" | "politics" | "other"
    outlet: int
    region: int
    topic: str
    title: str
    slug: str
    published: datetime
    copy_of: int | None  # index of the page whose body this one reuses
    exact_copy: bool

    @property
    def path(self) -> str:
        d = self.published
        return f"/berita/{d:%Y/%m/%d}/{self.slug}-{self.index}"

    @property
    def url(self) -> str:
        return OUTLETS[self.outlet][2] + self.path


@dataclass(frozen=True)
class DocEntry:
    """One manifest line."""

    index: int
    file: str
    url: str
    path: str
    title: str
    kind: str
    copy_of: int | None
    bytes: int


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def slugify(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(part for part in out.split("-") if part)[:80]


def make_title(rng: random.Random, kind: str, region: int, topic: str) -> str:
    area = REGIONS[region][0].replace("Kabupaten ", "")
    pos = rng.choice(BOUND_POSITIONS)
    if kind == "breach":
        return rng.choice(
            [
                f"{pos} {area} Diduga Tidak Netral, Bawaslu Turun Tangan",
                f"Viral, Oknum {pos} di {area} Dukung Bakal Calon Bupati",
                f"Bawaslu {area} Periksa {pos} soal Dugaan Politik Praktis",
                f"Diduga Ikut Kampanye, {pos} {area} Dilaporkan ke Bawaslu",
            ]
        )
    if kind == "advisory":
        return rng.choice(
            [
                f"Jelang Pilkada, ASN {area} Diminta Jaga Netralitas",
                f"Bawaslu {area} Sosialisasikan Netralitas ASN",
                f"Sekda {area} Terbitkan Edaran Netralitas Aparatur",
                f"Kepala Desa se-{area} Teken Pakta Integritas Netralitas",
            ]
        )
    if kind == "politics":
        return rng.choice(
            [
                f"KPU {area} Tetapkan Pasangan Calon Pilkada",
                f"Ratusan Simpatisan Antar Bakal Calon Daftar ke KPU {area}",
                f"Daftar Pemilih Tetap {area} Resmi Ditetapkan",
            ]
        )
    return {
        "jalan": f"Perbaikan Jalan di {area} Dikebut Jelang Musim Hujan",
        "panen": f"Petani {area} Panen Raya, Harga Gabah Stabil",
        "kesehatan": f"Angka Stunting {area} Turun, Posyandu Kembali Aktif",
        "pasar": f"Harga Cabai di {area} Naik, Pemda Gelar Pasar Murah",
        "festival": f"Festival Budaya {area} Dipadati Ribuan Pengunjung",
        "olahraga": f"Turnamen Sepak Bola Antarkecamatan {area} Masuki Final",
        "banjir": f"Banjir Rendam Puluhan Rumah Warga di {area}",
    }[topic] + rng.choice(["", "", f" ({rng.randint(2, 9)})", " - Update"])


@lru_cache(maxsize=65536)
def doc_spec(seed: int, index: int) -> DocSpec:
    rng = random.Random(f"{seed}:{index}:spec")
    published = datetime(2024, 1, 1, 6, 0) + timedelta(minutes=37 * index + rng.randint(0, 30))
    copy_roll = rng.random()
    if index >= 20 and copy_roll < 0.18:
        source = rng.randint(max(0, index - 400), index - 1)
        src = doc_spec(seed, source)
        while src.copy_of is not None:  # copy the original, not a copy
            src = doc_spec(seed, src.copy_of)
        exact = copy_roll < 0.04
        title = src.title if exact else reword_title(rng, src.title)
        outlet = (src.outlet + rng.randint(1, len(OUTLETS) - 1)) % len(OUTLETS)
        return DocSpec(
            index,
            src.kind,
            outlet,
            src.region,
            src.topic,
            title,
            slugify(title),
            published,
            src.index,
            exact,
        )
    roll = rng.random()
    kind = (
        "breach"
        if roll < 0.18
        else "advisory"
        if roll < 0.34
        else "politics"
        if roll < 0.46
        else "other"
    )
    region = rng.randrange(len(REGIONS))
    topic = rng.choice(sorted(FILLER_TOPICS))
    title = make_title(rng, kind, region, topic)
    return DocSpec(
        index,
        kind,
        rng.randrange(len(OUTLETS)),
        region,
        topic,
        title,
        slugify(title),
        published,
        None,
        False,
    )


def reword_title(rng: random.Random, title: str) -> str:
    swaps = [("Diduga", "Disebut"), ("Jelang", "Menjelang"), ("Diminta", "Diimbau")]
    for old, new in swaps:
        if old in title and rng.random() < 0.7:
            title = title.replace(old, new)
    return rng.choice(["", "Heboh! ", "Terkini: "]) + title


# --- article bodies -------------------------------------------------------------------------


def fill(rng: random.Random, template: str, ctx: dict[str, str]) -> str:
    values = dict(ctx)
    values.update(
        amount=str(rng.randint(3, 95)),
        tons=f"{rng.randint(4, 8)},{rng.randint(0, 9)}",
        price=f"{rng.randint(5, 80)}.{rng.choice(['000', '500'])}",
        pct=f"{rng.randint(12, 29)},{rng.randint(0, 9)}",
        meters=str(rng.randint(30, 160)),
        n=str(rng.randint(2, 5)),
        voters=f"{rng.randint(80, 950)}.{rng.randint(100, 999)}",
        village=rng.choice(VILLAGES),
    )
    return template.format(**values)


def article_paragraphs(seed: int, spec: DocSpec) -> list[str]:
    """The original body of a page (copies derive theirs from their source's)."""
    rng = random.Random(f"{seed}:{spec.index}:body")
    name_region, city, _ = REGIONS[spec.region]
    when = spec.published
    ctx = {
        "region": name_region,
        "name": person(rng),
        "name2": person(rng),
        "pos": rng.choice(BOUND_POSITIONS),
        "cand": person(rng),
        "elected": rng.choice(ELECTED_POSITIONS),
        "party": rng.choice(PARTIES),
        "unit": rng.choice(UNITS),
        "day": DAYS[when.weekday()],
        "date": f"{when.day}/{when.month}/{when.year}",
        "year": str(when.year),
        "initials": "".join(rng.choice("ABDEHIJKMNRSTY") for _ in range(2)),
    }
    filler = FILLER_TOPICS[spec.topic]
    main = {"breach": BREACH, "advisory": ADVISORY, "politics": POLITICS_OTHER}.get(
        spec.kind, filler
    )
    paragraphs: list[str] = []
    lead = fill(rng, rng.choice(main), ctx)
    outlet_name = OUTLETS[spec.outlet][1]
    paragraphs.append(f"{city.upper()}, {outlet_name} - {lead}")
    for _ in range(rng.randint(8, 16)):
        sentences = []
        for _ in range(rng.randint(2, 4)):
            roll = rng.random()
            if spec.kind == "breach" and roll < 0.07:
                sentences.append(fill(rng, rng.choice(BREACH_QUOTES), ctx))
            elif roll < 0.25:
                sentences.append(fill(rng, rng.choice(main), ctx))
            elif roll < 0.32 and spec.kind != "other":
                sentences.append(fill(rng, rng.choice(POLITICS_OTHER), ctx))
            elif roll < 0.40:
                sentences.append(fill(rng, rng.choice(filler), ctx))
            else:
                sentences.append(composed_sentence(rng, ctx))
        paragraphs.append(" ".join(sentences))
    return paragraphs


def composed_sentence(rng: random.Random, ctx: dict[str, str]) -> str:
    parts = [
        rng.choice(SUBJECTS),
        rng.choice(VERBS),
        rng.choice(OBJECTS),
        rng.choice(PLACES),
        rng.choice(TIMES),
        rng.choice(TAILS),
    ]
    return fill(rng, " ".join(p for p in parts if p), ctx) + "."


SYNONYMS = [
    ("diduga", "disinyalir"),
    ("warga", "masyarakat"),
    ("mengingatkan", "mengimbau"),
    ("menggelar", "mengadakan"),
    ("kepada", "pada"),
    ("telah", "sudah"),
    ("menyatakan", "mengatakan"),
]


def copied_paragraphs(seed: int, spec: DocSpec) -> list[str]:
    """An edited republication: reworded words, a dropped paragraph, a source credit."""
    assert spec.copy_of is not None
    source = doc_spec(seed, spec.copy_of)
    paragraphs = article_paragraphs(seed, source)
    if spec.exact_copy:
        return paragraphs
    rng = random.Random(f"{seed}:{spec.index}:edit")
    edited: list[str] = []
    for para in paragraphs:
        if len(edited) > 1 and rng.random() < 0.12:
            continue
        for old, new in SYNONYMS:
            if old in para and rng.random() < 0.3:
                para = para.replace(old, new, 1)
        edited.append(para)
    credit = OUTLETS[source.outlet][1]
    edited.insert(0, f"Dilansir dari laman {credit}, berikut laporan selengkapnya.")
    edited.append(f"Sumber: {credit}")
    return edited


# --- page furniture -------------------------------------------------------------------------


def link_list(rng: random.Random, seed: int, ids: list[int], base: str, cls: str) -> str:
    items = []
    for j in ids:
        other = doc_spec(seed, j)
        thumb = f"{base}/img/thumb/{j % 997}.jpg"
        items.append(
            f'<li class="{cls}-item"><a href="{base}{other.path}" class="{cls}-link">'
            f'<img src="{thumb}" data-src="{thumb}" loading="lazy" width="90" height="60" '
            f'alt="{other.title}"></a><div class="{cls}-meta"><a href="{base}{other.path}">'
            f'{other.title}</a><span class="time">{other.published:%d/%m/%Y %H:%M} WIB</span>'
            "</div></li>"
        )
    return "\n".join(items)


def earlier_ids(rng: random.Random, index: int, count: int, window: int = 300) -> list[int]:
    if index == 0:
        return []
    low = max(0, index - window)
    return [rng.randint(low, index - 1) for _ in range(count)]


def inline_css(rng: random.Random, rules: int) -> str:
    props = [
        "margin:0 auto",
        "padding:8px 12px",
        "display:flex",
        "font-size:14px",
        "line-height:1.5",
        "color:#222",
        "background:#f5f5f5",
        "border-bottom:1px solid #e3e3e3",
        "text-transform:uppercase",
        "position:relative",
        "overflow:hidden",
        "max-width:1180px",
        "font-weight:700",
        "gap:12px",
    ]
    parts = []
    for k in range(rules):
        sel = rng.choice(["header", "nav", "aside", "footer", "article", "section"])
        chosen = ";".join(rng.sample(props, rng.randint(2, 6)))
        parts.append(f".{sel}-{k}-{rng.randint(10, 99)}{{{chosen}}}")
        if k % 25 == 0:
            parts.append(
                f"@media (max-width:{rng.choice([480, 768, 1024])}px){{.m-{k}{{{chosen}}}}}"
            )
    return "\n".join(parts)


def ad_script(rng: random.Random, slots: int) -> str:
    entries = ",".join(
        f'{{"slot":"/2193/{rng.randint(1000, 9999)}/r{k}","sizes":[[300,250],[336,280]],'
        f'"div":"div-gpt-ad-{rng.randint(10**8, 10**9)}-{k}","refresh":{rng.randint(30, 90)}}}'
        for k in range(slots)
    )
    return (
        "window.adQueue=window.adQueue||[];window.adSlots=["
        + entries
        + "];(function(w,d){var q=w.adQueue;function load(s){var e=d.getElementById(s.div);"
        "if(!e){return}e.setAttribute('data-slot',s.slot);q.push(s)}for(var i=0;"
        "i<w.adSlots.length;i++){load(w.adSlots[i])}})(window,document);"
    )


def nav_menu(rng: random.Random, base: str) -> str:
    cats = "".join(
        f'<li class="menu-item"><a href="{base}/kategori/{slugify(c)}">{c}</a>'
        f'<ul class="sub-menu">'
        + "".join(
            f'<li><a href="{base}/kategori/{slugify(c)}/{slugify(r[1])}">{r[1]}</a></li>'
            for r in rng.sample(REGIONS, 6)
        )
        + "</ul></li>"
        for c in CATEGORIES
    )
    regions = "".join(
        f'<li><a href="{base}/kategori/daerah/{slugify(r[1])}">{r[1]}</a></li>' for r in REGIONS
    )
    return (
        f'<nav class="main-nav" id="menu"><ul class="menu">{cats}</ul></nav>'
        f'<nav class="region-nav"><span>Daerah:</span><ul>{regions}</ul></nav>'
    )


def footer(base: str, outlet_name: str, year: int) -> str:
    static = ["redaksi", "pedoman-media-siber", "kontak", "tentang-kami", "kebijakan-privasi"]
    network = "".join(
        f'<li><a href="{o[2]}" rel="nofollow">{o[1]}</a></li>' for o in OUTLETS
    ) + "".join(f'<li><a href="{base}/tag/{t}">#{t}</a></li>' for t in TAGS)
    links = "".join(
        f'<li><a href="{base}/{s}">{s.replace("-", " ").title()}</a></li>' for s in static
    )
    return (
        f'<footer class="site-footer"><div class="footer-links"><ul>{links}</ul></div>'
        f'<div class="footer-network"><h4>Jaringan</h4><ul>{network}</ul></div>'
        f'<div class="copyright">&copy; {year} {outlet_name}. Seluruh hak cipta dilindungi. '
        "Dilarang mengutip atau menyalin tanpa izin tertulis.</div></footer>"
    )


def comment_form(spec: DocSpec) -> str:
    return (
        '<div id="comments" class="comments-area"><h3 class="comments-title">Tinggalkan '
        'Komentar</h3><form action="/wp-comments-post.php" method="post" class="comment-form">'
        '<p class="comment-notes">Alamat email Anda tidak akan dipublikasikan.</p>'
        '<p><label for="comment">Komentar</label><textarea id="comment" name="comment" '
        'rows="6" required></textarea></p><p><label for="author">Nama</label><input '
        'id="author" name="author" type="text" required></p><p><label for="email">Email</label>'
        '<input id="email" name="email" type="email" required></p><p><input type="checkbox" '
        'name="consent"> Simpan nama dan email saya untuk komentar berikutnya.</p>'
        f'<input type="hidden" name="comment_post_ID" value="{spec.index}"><p class="form-submit">'
        '<input type="submit" value="Kirim Komentar"></p></form></div>'
    )


def share_bar(url: str, title: str) -> str:
    nets = ["facebook", "twitter", "whatsapp", "telegram", "line", "linkedin", "email"]
    return (
        '<div class="share-buttons"><span>Bagikan:</span>'
        + "".join(
            f'<a class="share-{n}" href="https://share.example/{n}?u={url}&amp;t={slugify(title)}" '
            f'rel="nofollow noopener" target="_blank"><i class="icon-{n}"></i>{n.title()}</a>'
            for n in nets
        )
        + "</div>"
    )


def article_html(seed: int, spec: DocSpec, rng: random.Random, paragraphs: list[str]) -> str:
    base = OUTLETS[spec.outlet][2]
    body: list[str] = []
    related_inline = earlier_ids(rng, spec.index, 3)
    for k, para in enumerate(paragraphs):
        body.append(f"<p>{para}</p>")
        if k in (2, 6) and related_inline:
            other = doc_spec(seed, related_inline.pop())
            body.append(
                f'<p class="baca-juga"><strong>Baca juga:</strong> '
                f'<a href="{base}{other.path}">{other.title}</a></p>'
            )
        if k == 4:
            body.append(
                f'<div class="ads-inarticle" id="div-gpt-ad-in-{spec.index}"><script>'
                f"window.adQueue=window.adQueue||[];adQueue.push('in-{spec.index}');</script></div>"
            )
    author = person(random.Random(f"{seed}:{spec.index}:author"))
    cat = "Pilkada" if spec.kind in ("breach", "advisory", "politics") else "Daerah"
    tag_links = " ".join(f'<a href="{base}/tag/{t}">{t}</a>' for t in rng.sample(TAGS, 5))
    return (
        f'<article class="post-{spec.index} post type-post single-article">'
        f'<div class="breadcrumb"><a href="{base}/">Beranda</a> &raquo; '
        f'<a href="{base}/kategori/{slugify(cat)}">{cat}</a></div>'
        f'<h1 class="entry-title">{spec.title}</h1>'
        f'<div class="entry-meta"><span class="author">Penulis: <a href="{base}/penulis/'
        f'{slugify(author)}">{author}</a></span> <time class="published" datetime="'
        f'{spec.published.isoformat()}+07:00">{DAYS[spec.published.weekday()]}, '
        f"{spec.published.day} {MONTHS[spec.published.month - 1]} {spec.published.year} "
        f"{spec.published:%H:%M} WIB</time></div>"
        f'<figure class="featured"><img src="{base}/img/{spec.index}.jpg" width="800" '
        f'height="450" alt="{spec.title}"><figcaption>Ilustrasi. (Foto: Dok. '
        f"{OUTLETS[spec.outlet][1]})</figcaption></figure>"
        f'<div class="entry-content">{"".join(body)}</div>'
        f'<div class="editor">Editor: {person(rng)}</div>'
        f'<div class="tags">Tag: {tag_links}</div>{share_bar(spec.url, spec.title)}</article>'
    )


def render_page(seed: int, spec: DocSpec) -> str:
    rng = random.Random(f"{seed}:{spec.index}:page")
    target = rng.randint(MIN_BYTES + 1024, MAX_BYTES - 4096)
    outlet_id, outlet_name, base = OUTLETS[spec.outlet]
    paragraphs = (
        copied_paragraphs(seed, spec)
        if spec.copy_of is not None
        else article_paragraphs(seed, spec)
    )
    description = paragraphs[0][:155].replace('"', "")
    head = (
        '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{spec.title} - {outlet_name}</title>"
        f'<meta name="description" content="{description}">'
        f'<link rel="canonical" href="{spec.url}">'
        f'<meta property="og:title" content="{spec.title}">'
        f'<meta property="og:url" content="{spec.url}">'
        f'<meta property="og:site_name" content="{outlet_name}">'
        '<meta property="og:type" content="article">'
        f'<meta property="article:published_time" content="{spec.published.isoformat()}+07:00">'
        f'<meta name="author" content="{person(random.Random(f"{seed}:{spec.index}:author"))}">'
        f'<link rel="stylesheet" href="{base}/wp-content/themes/{outlet_id}/style.css?v=4.2">'
        f"<style>{inline_css(rng, rng.randint(120, 260))}</style>"
        '<script type="application/ld+json">'
        + json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": spec.title,
                "datePublished": spec.published.isoformat() + "+07:00",
                "publisher": {"@type": "Organization", "name": outlet_name},
                "mainEntityOfPage": spec.url,
            },
            ensure_ascii=False,
        )
        + "</script>"
        f"<script>{ad_script(rng, rng.randint(6, 14))}</script>"
        '<script async src="https://ads.example/tag/js/gpt.js"></script></head>'
    )
    header = (
        f'<body class="single single-post postid-{spec.index}">'
        '<div id="cookie-banner" class="cookie">Situs ini menggunakan cookie untuk '
        'meningkatkan pengalaman Anda. <button type="button">Setuju</button></div>'
        f'<div class="top-bar"><span class="date">{DAYS[spec.published.weekday()]}, '
        f"{spec.published:%d/%m/%Y}</span>"
        '<form class="search" action="/"><input name="s" placeholder="Cari berita...">'
        "</form></div>"
        f'<header class="site-header"><a class="logo" href="{base}/"><img src="{base}/logo.png" '
        f'alt="{outlet_name}"></a><div class="ads-leaderboard" id="div-gpt-ad-top">'
        "<script>adQueue.push('top');</script></div></header>"
        + nav_menu(rng, base)
        + '<div class="breaking-news"><strong>Terkini:</strong><ul>'
        + link_list(rng, seed, earlier_ids(rng, spec.index, 8, 40), base, "ticker")
        + "</ul></div>"
    )
    main = (
        '<div class="container"><main id="main" class="content">'
        + article_html(seed, spec, rng, paragraphs)
        + '<section class="related"><h3>Berita Terkait</h3><ul>'
        + link_list(rng, seed, earlier_ids(rng, spec.index, 8), base, "related")
        + "</ul></section>"
        + comment_form(spec)
        + "</main>"
    )
    sidebar_blocks = [
        ("Terpopuler", earlier_ids(rng, spec.index, 10, 200)),
        ("Berita Terbaru", list(range(spec.index - 1, max(-1, spec.index - 16), -1))),
        ("Pilihan Editor", earlier_ids(rng, spec.index, 8, 500)),
    ]
    sidebar = ['<aside class="sidebar">']
    for label, ids in sidebar_blocks:
        sidebar.append(
            f'<div class="widget"><h3 class="widget-title">{label}</h3><ul>'
            + link_list(rng, seed, ids, base, "widget")
            + "</ul></div>"
        )
        sidebar.append(
            f'<div class="ads-sidebar" id="div-gpt-ad-side-{len(sidebar)}" '
            'style="min-height:250px">'
            f"<script>adQueue.push('side-{len(sidebar)}');</script></div>"
        )
    closing = (
        "</aside></div>"
        + footer(base, outlet_name, spec.published.year)
        + "<script>(function(){var imgs=document.querySelectorAll('img[data-src]');"
        "imgs.forEach(function(i){i.src=i.getAttribute('data-src')})})();</script>"
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        "gtag('js',new Date());gtag('config','G-BENCH0000');</script></body></html>"
    )
    size = sum(len(s.encode()) for s in (head, header, main, closing, *sidebar))
    more = 0
    while size < target and spec.index > 0:
        more += 1
        block = (
            f'<div class="widget widget-more"><h3 class="widget-title">Berita Daerah Lainnya {more}'
            "</h3><ul>"
            + link_list(rng, seed, earlier_ids(rng, spec.index, 6, 1000), base, "widget")
            + "</ul></div>"
        )
        sidebar.append(block)
        size += len(block.encode())
    if size < target:  # the very first page has nothing earlier to link to
        pad = f"<script>{ad_script(rng, 1 + (target - size) // 150)}</script>"
        sidebar.append(pad)
    return head + header + main + "".join(sidebar) + closing


# --- storage --------------------------------------------------------------------------------


def corpus_dir(seed: int = DEFAULT_SEED, root: Path = CORPUS_ROOT) -> Path:
    return root / f"v{GENERATOR_VERSION}-seed{seed}"


def load_manifest(directory: Path) -> list[DocEntry]:
    manifest = directory / "manifest.jsonl"
    if not manifest.exists():
        return []
    entries = []
    with manifest.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                entries.append(DocEntry(**json.loads(line)))
    # Only trust entries whose files are present (a run may have been interrupted).
    return [e for e in entries if (directory / e.file).exists()]


def ensure_corpus(
    docs: int = DEFAULT_DOCS, seed: int = DEFAULT_SEED, root: Path = CORPUS_ROOT
) -> tuple[Path, list[DocEntry]]:
    """Write the first `docs` pages for `seed` unless already stored; return them."""
    directory = corpus_dir(seed, root)
    directory.mkdir(parents=True, exist_ok=True)
    entries = load_manifest(directory)
    have = {e.index for e in entries}
    missing = [i for i in range(docs) if i not in have]
    if missing:
        with (directory / "manifest.jsonl").open("a", encoding="utf-8") as manifest:
            for entry in write_pages(directory, seed, missing):
                manifest.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
                entries.append(entry)
    entries.sort(key=lambda e: e.index)
    return directory, entries[:docs]


def write_pages(directory: Path, seed: int, indexes: list[int]) -> Iterator[DocEntry]:
    for i in indexes:
        spec = doc_spec(seed, i)
        html = render_page(seed, spec).encode("utf-8")
        name = f"{i // 1000:03d}/{i:06d}.html"
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(html)
        yield DocEntry(i, name, spec.url, spec.path, spec.title, spec.kind, spec.copy_of, len(html))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=DEFAULT_DOCS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    started = time.perf_counter()
    directory, entries = ensure_corpus(args.docs, args.seed)
    sizes = sorted(e.bytes for e in entries)
    kinds: dict[str, int] = {}
    for e in entries:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    copies = sum(e.copy_of is not None for e in entries)
    print(
        f"{len(entries)} pages in {directory} ({time.perf_counter() - started:.1f} s): "
        f"{sizes[0] // 1024}-{sizes[-1] // 1024} KB, median {sizes[len(sizes) // 2] // 1024} KB; "
        f"{kinds}; {copies} copies of earlier pages"
    )


if __name__ == "__main__":
    main()
