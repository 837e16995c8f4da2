"""A Faker provider for Kazakh names, IINs, BINs, addresses and phone numbers.

Names: Kazakh given names (with the letters ә ғ қ ң ө ұ ү һ і), surnames in their Russian-style
forms for men and women (Нұрланов / Нұрланова) or the Kazakh patronymic forms (Асқарұлы /
Асқарқызы), and a Latin transliteration of some.  IINs encode the birth date and sex and pass the
checksum; BINs encode the registration month.  Addresses are in Kazakh cities; phones are +7 7xx.
"""

from __future__ import annotations

from datetime import date
from random import Random

from anyascii import anyascii
from faker.providers import BaseProvider

from cofi.normalize import iin_bin_check_digit

MALE = (
    "Асқар", "Әсет", "Ғалым", "Қайрат", "Нұрлан", "Ерлан", "Дәулет", "Бауыржан", "Серік", "Ержан",
    "Мұрат", "Арман", "Тимур", "Айдос", "Ілияс", "Жандос", "Нұрсұлтан", "Әлихан", "Бекзат",
    "Дархан", "Ғабит", "Қанат", "Мейрам", "Рүстем", "Талғат", "Өмірзақ", "Ұлан", "Жасұлан",
    "Құдайберген", "Сәкен", "Болат", "Абылай", "Ернар", "Шыңғыс", "Жиһангер", "Ақжол",
)  # fmt: skip
FEMALE = (
    "Айгерім", "Әсел", "Гүлнар", "Жанна", "Динара", "Мадина", "Салтанат", "Ақмарал", "Ботагөз",
    "Назым", "Әйгерім", "Гүлмира", "Жұлдыз", "Ләззат", "Меруерт", "Сәуле", "Үміт", "Қарлығаш",
    "Аружан", "Дана", "Іңкәр", "Өркен", "Ұлжан", "Шолпан", "Зарина", "Ғалия", "Күнсұлу", "Айжан",
    "Перизат", "Раушан", "Балжан", "Мөлдір", "Гауһар", "Жансая", "Томирис", "Ақбота",
)  # fmt: skip
SURNAME_ROOTS = (
    "Нұрланов", "Сейітов", "Әбілов", "Қасымов", "Ахметов", "Жұмабаев", "Оспанов", "Төлегенов",
    "Сәрсенбаев", "Байжанов", "Ғабдуллин", "Құрманов", "Омаров", "Исаев", "Мұхаметжанов",
    "Есенов", "Тұрсынов", "Әлиев", "Бекмұханов", "Смағұлов", "Иманғалиев", "Шәріпов", "Өтепов",
    "Ұзақбаев", "Үсенов", "Жақыпов", "Рахымжанов", "Қалиев", "Ділманов", "Серікбаев",
    "Досмағамбетов", "Кенжебеков", "Мұсабеков", "Тоқаев", "Нығметов", "Шайхиев",
)  # fmt: skip
CITIES = (
    "Алматы", "Астана", "Шымкент", "Қарағанды", "Ақтөбе", "Тараз", "Павлодар", "Өскемен",
    "Семей", "Атырау", "Қостанай", "Қызылорда", "Орал", "Петропавл", "Ақтау", "Түркістан",
    "Көкшетау", "Талдықорған", "Жезқазған", "Екібастұз",
)  # fmt: skip
STREETS = (
    "Абай даңғылы", "Төле би көшесі", "Желтоқсан көшесі", "Қабанбай батыр көшесі",
    "Сәтпаев көшесі", "Достық даңғылы", "Әл-Фараби даңғылы", "Бөгенбай батыр көшесі",
    "Наурызбай батыр көшесі", "Мәңгілік Ел даңғылы", "Кенесары көшесі", "Республика даңғылы",
    "Тәуелсіздік даңғылы", "Құнаев көшесі", "Жамбыл көшесі", "Шевченко көшесі", "Гоголь көшесі",
    "Пушкин көшесі", "Майлин көшесі", "Байтұрсынұлы көшесі",
)  # fmt: skip
OPERATORS = ("701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778")


def female_surname(male: str) -> str:
    """Нұрланов → Нұрланова, Ғабдуллин → Ғабдуллина (the Russian-style forms)."""
    return male + "а"


def with_check_digit(head: str, serial: int) -> str:
    """`head` and `serial` (zero-padded to 11 digits together) and the IIN/BIN check digit.

    The serial is moved on until a check digit exists (for some prefixes none does).
    """
    width = 11 - len(head)
    while True:
        first11 = f"{head}{serial % 10**width:0{width}d}"
        check = iin_bin_check_digit(first11)
        if check is not None:
            return first11 + str(check)
        serial += 1


def iin(born: date, female: bool, serial: int) -> str:
    """A valid IIN: YYMMDD, the century-and-sex digit, a 4-digit serial, the check digit."""
    century = 3 if born.year < 2000 else 5
    return with_check_digit(f"{born:%y%m%d}{century + female}", serial)


def bin_(registered: date, serial: int) -> str:
    """A valid BIN: YYMM of registration, 4 (resident legal entity), 0 (head office), a 5-digit
    serial, the check digit."""
    return with_check_digit(f"{registered:%y%m}40", serial)


def address(rng: Random) -> str:
    """A flat in a Kazakh city."""
    city, street = rng.choice(CITIES), rng.choice(STREETS)
    return f"{city} қ., {street}, {rng.randrange(1, 300)}-үй, {rng.randrange(1, 400)}-пәтер"


def phone(rng: Random) -> str:
    """A Kazakh mobile number, +7 7xx xxx xx xx."""
    n = f"{rng.randrange(10**7):07d}"
    return f"+7 {rng.choice(OPERATORS)} {n[:3]} {n[3:5]} {n[5:]}"


class KazakhProvider(BaseProvider):
    """Kazakh names and identifiers for Faker (`fake.add_provider(KazakhProvider)`)."""

    def kk_first_name(self, female: bool = False) -> str:
        return self.random_element(FEMALE if female else MALE)

    def kk_last_name(self, female: bool = False) -> str:
        male = self.random_element(SURNAME_ROOTS)
        return female_surname(male) if female else male

    def kk_patronymic_surname(self, female: bool = False) -> str:
        """The Kazakh form taken from the father's given name: Асқарұлы, Асқарқызы."""
        return self.random_element(MALE) + ("қызы" if female else "ұлы")

    def kk_name(self, female: bool = False) -> str:
        """Surname first, as Kazakh registers write it; one in five in the patronymic form."""
        if self.generator.random.random() < 0.2:
            last = self.kk_patronymic_surname(female)
        else:
            last = self.kk_last_name(female)
        return f"{last} {self.kk_first_name(female)}"

    def kk_latin(self, name: str) -> str:
        """A Latin transliteration of a Cyrillic name (Нұрланов Асқар → Nurlanov Asqar)."""
        return anyascii(name)

    def kk_address(self) -> str:
        return address(self.generator.random)

    def kk_phone(self) -> str:
        return phone(self.generator.random)
