#!/bin/sh
# mkhome.sh - lay out a qmail home for the invoking user (sandbox and tests).
# usage: mkhome.sh HOME BUILDDIR [DOMAIN]
#   HOME      the qmail home to create (absolute path); existing files are kept
#   BUILDDIR  where the built programs are; HOME/bin gets symlinks to them
#   DOMAIN    control/me, locals and rcpthosts (default sandbox.test)
# Users alice and bob get Maildirs under HOME/home/; postmaster goes to alice.
# HOME/bin/sendmail and qmail-inject are wrappers that set QMAILHOME=HOME.
set -eu
home=$1 build=$2 domain=${3:-sandbox.test}
case $home in /*) ;; *) echo "mkhome.sh: HOME must be absolute" >&2; exit 2 ;; esac
uid=$(id -u) gid=$(id -g)

mkdir -p "$home/bin" "$home/control" "$home/users" "$home/alias" "$home/home"

# wrapper NAME TARGET - HOME/bin/NAME runs TARGET bound to this home, so that
# "HOME/bin/sendmail -t < msg" works without QMAILHOME in the environment.
wrapper() {
	printf '#!/bin/sh\n# %s bound to the qmail home %s (written by mkhome.sh)\nQMAILHOME='"'"'%s'"'"'\nexport QMAILHOME\nexec '"'"'%s'"'"' "$@"\n' \
	    "$1" "$home" "$home" "$2" > "$home/bin/.$1.tmp"
	chmod 755 "$home/bin/.$1.tmp"
	mv -f "$home/bin/.$1.tmp" "$home/bin/$1"
}
# Built programs only: skip tests, other homes' bin/ and distcheck trees.
for p in $(find "$build" -mindepth 1 -maxdepth 3 \( -name tests -o -name bin \
    -o -name 'sqmail-*' -o -name '.git' -o -path "$home" \) -prune -o -type f -perm -u+x \
    \( -name 'qmail-*' -o -name sendmail \) -print); do
	name=$(basename "$p")
	target="$(cd "$(dirname "$p")" && pwd)/$name"
	case $name in
	sendmail|qmail-inject) wrapper "$name" "$target" ;;
	*) ln -sf "$target" "$home/bin/$name" ;;
	esac
done

q=$home/queue
mkdir -p "$q/pid" "$q/bounce" "$q/lock"
for d in mess intd todo info local remote; do
	i=0
	while [ $i -lt 23 ]; do mkdir -p "$q/$d/$i"; i=$((i + 1)); done
done
chmod 700 "$q/pid" "$q/intd" "$q/info" "$q/local" "$q/remote" "$q/bounce"
[ -e "$q/lock/sendmutex" ] || : > "$q/lock/sendmutex"
[ -e "$q/lock/tcpto" ] || head -c 1024 /dev/zero > "$q/lock/tcpto"
[ -p "$q/lock/trigger" ] || mkfifo -m 622 "$q/lock/trigger"

[ -e "$home/control/me" ] || echo "$domain" > "$home/control/me"
[ -e "$home/control/locals" ] || echo "$domain" > "$home/control/locals"
[ -e "$home/control/rcpthosts" ] || echo "$domain" > "$home/control/rcpthosts"

for u in alice bob; do
	mkdir -p "$home/home/$u/Maildir/tmp" "$home/home/$u/Maildir/new" "$home/home/$u/Maildir/cur"
	chmod 700 "$home/home/$u" "$home/home/$u/Maildir"
done
mkdir -p "$home/alias/Maildir/tmp" "$home/alias/Maildir/new" "$home/alias/Maildir/cur"
if [ ! -e "$home/users/assign" ]; then
	{
		for u in alice bob; do
			printf '=%s:%s:%s:%s:%s:::\n' "$u" "$(id -un)" "$uid" "$gid" "$home/home/$u"
			printf '+%s-:%s:%s:%s:%s:-::\n' "$u" "$(id -un)" "$uid" "$gid" "$home/home/$u"
		done
		printf '+:%s:%s:%s:%s:-::\n' "$(id -un)" "$uid" "$gid" "$home/alias"
		echo .
	} > "$home/users/assign"
fi
# alice-anything@ is alice's too (qmail bounces an extension without a .qmail file)
[ -e "$home/home/alice/.qmail-default" ] || echo "./Maildir/" > "$home/home/alice/.qmail-default"
[ -e "$home/alias/.qmail-postmaster" ] || echo "&alice@$domain" > "$home/alias/.qmail-postmaster"
[ -e "$home/alias/.qmail-mailer-daemon" ] || echo "&alice@$domain" > "$home/alias/.qmail-mailer-daemon"
[ -e "$home/alias/.qmail-root" ] || echo "&alice@$domain" > "$home/alias/.qmail-root"
if [ -x "$home/bin/qmail-newu" ]; then
	QMAILHOME=$home "$home/bin/qmail-newu"
fi
exit 0
