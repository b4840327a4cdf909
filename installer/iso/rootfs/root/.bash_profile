# root's login shell. On the live system's console: the Quad menu.
[[ -f ~/.bashrc ]] && . ~/.bashrc
if grep -qw 'boot=live' /proc/cmdline && [[ "$(tty)" == /dev/tty1 || "$(tty)" == /dev/ttyS0 ]] && [[ -z "${QUAD_MENU_DONE:-}" ]]; then
  export QUAD_MENU_DONE=1
  cat /etc/issue 2>/dev/null | sed 's/\\n/quad/g'
  if grep -qw 'quad.autoinstall' /proc/cmdline; then
    echo "Unattended install in progress: journalctl -fu quad-autoinstall (the machine powers off when done)."
  else
    while true; do
      choice="$(whiptail --title "Quad live system" --menu \
        "LIVE SYSTEM: Quad runs from memory; everything is lost at power-off.\n\nQuad answers on the addresses shown on the console banner." \
        16 72 4 install "Install Quad on a disk of this machine" shell "Shell (type quad-install to install later)" \
        reboot "Restart" poweroff "Power off" 3>&1 1>&2 2>&3)" || choice=shell
      case "$choice" in
        install) quad-install || read -r -p "Press Enter to go back to the menu. " _ ;;
        reboot) systemctl reboot ;;
        poweroff) systemctl poweroff ;;
        *) break ;;
      esac
    done
  fi
fi
